"""The parent's portal: each child's teleservices, one tap away, and the way out."""

from __future__ import annotations

from flask import Blueprint, render_template

from idp import sessions
from idp.flows.gate import active_required
from idp.portal import tiles

bp = Blueprint("portal", __name__)


@bp.get("/")
@active_required
def home() -> str:
    account = sessions.current_account()
    return render_template("portal/home.html", account=account, sections=tiles.sections(account))
