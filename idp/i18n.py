"""French by default; `ui_locales` or the browser's language may pick English."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import get_locale

from idp.extensions import babel

LOCALES = ("fr", "en")


def select_locale() -> str:
    for tag in session.get("ui_locales", "").split():
        language = tag.split("-")[0].lower()
        if language in LOCALES:
            return language
    return request.accept_languages.best_match(LOCALES) or LOCALES[0]


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_locale="fr",
        default_translation_directories="translations",
    )
    app.jinja_env.globals["get_locale"] = get_locale
