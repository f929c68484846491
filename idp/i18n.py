"""French by default; the parent's choice (the switch in the header), then `ui_locales` from a
teleservice, then the browser's language may pick English."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import Flask, request, session
from flask_babel import force_locale, get_locale

from idp.extensions import babel, db

LOCALES = ("fr", "en")
COOKIE = "idp_lang"  # the parent's explicit choice, remembered for a year


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LOCALES:
        return chosen
    for tag in session.get("ui_locales", "").split():
        language = tag.split("-")[0].lower()
        if language in LOCALES:
            return language
    return request.accept_languages.best_match(LOCALES) or LOCALES[0]


def language_next() -> str:
    """Where the language switch sends back to: this page, or the page that posted here.

    A page shown after a POST can't be fetched again with GET; the page the form was on can
    (the referrer, when it is on this site).
    """
    if request.method == "GET":
        try:
            query = request.query_string.decode()
        except UnicodeDecodeError:  # a hand-made address: its error page links to the path only
            query = ""
        return f"{request.path}?{query}" if query else request.path
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


def remember_for_account(account, code: str | None = None) -> None:
    """Store the language of the pages on the account, so that its mails are written in it
    (even those sent while the parent is not on the site). Commits only if it changed."""
    code = code or str(get_locale())
    if account is not None and code in LOCALES and account.locale != code:
        account.locale = code
        db.session.commit()


@contextmanager
def account_language(account) -> Iterator[None]:
    """Translate in the account's language inside the block (its mails); else the page's."""
    code = getattr(account, "locale", None)
    if code in LOCALES and code != str(get_locale()):
        with force_locale(code):
            yield
    else:
        yield


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_locale="fr",
        default_translation_directories="translations",
    )
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_next"] = language_next
