"""Footer pages and the language switch.

The switch is a plain link (it works without JavaScript): it stores the choice in a long-lived
cookie and sends the parent back to the page they were on, so that the flow goes on in the
other language. Only a path on this site is followed back (never another host).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp import i18n, sessions

bp = Blueprint("pages", __name__)

YEAR = 365 * 24 * 3600


@bp.get("/aide")
def help() -> str:
    return render_template("pages/help.html")


@bp.get("/accessibilite")
def accessibility() -> str:
    return render_template("pages/accessibility.html")


@bp.get("/donnees-personnelles")
def privacy() -> str:
    return render_template("pages/privacy.html")


@bp.get("/mentions-legales")
def legal() -> str:
    return render_template("pages/legal.html")


def _local_path(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page."""
    if not target:
        return url_for("portal.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("portal.home")
    if "\\" in target:
        return url_for("portal.home")
    return target


@bp.get("/langue/<code>")
def language(code: str) -> Response:
    response = redirect(_local_path(request.args.get("next")))
    if code in i18n.LOCALES:
        response.set_cookie(
            i18n.COOKIE, code, max_age=YEAR, httponly=True, samesite="Lax", secure=request.is_secure
        )
        i18n.remember_for_account(sessions.current_account(), code)
    return response


@bp.after_app_request
def _personal_pages_are_not_stored(response: Response) -> Response:
    """Pages show personal data (and may put back a typed password): never in a shared cache.

    The language comes from a cookie, so a page also varies with the cookies.
    """
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
        response.vary.add("Cookie")
    return response
