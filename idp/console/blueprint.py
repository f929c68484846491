"""The console's blueprint, under /ecole; its views are in the views_* modules."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from idp.console import sessions

bp = Blueprint("console", __name__, url_prefix="/ecole")


@bp.after_request
def _after(response: Response) -> Response:
    """The staff cookie, and no page of the console kept by a browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    return sessions.set_cookie(response)
