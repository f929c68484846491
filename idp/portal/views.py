"""The parent's portal: the children linked to the account, and the way out."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from idp import sessions
from idp.flows.gate import active_required

bp = Blueprint("portal", __name__)


@bp.get("/")
@active_required
def home() -> Response | str:
    return render_template("portal/home.html", account=sessions.current_account())
