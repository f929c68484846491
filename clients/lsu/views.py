"""Pages of the LSU demo: the children of the signed-in parent, and a report book per child."""

from __future__ import annotations

from flask import Blueprint, render_template

from clients.rp import current_user, own_child, signed_in, signed_out_notice

from .report_book import report_book

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    return render_template("home.html", user=current_user(), signed_out=signed_out_notice())


@bp.get("/enfant/<child_sub>")
@signed_in
def child(child_sub: str) -> str:
    """One child's report book; only a child of the signed-in parent (else 404)."""
    user = current_user()
    found = own_child(child_sub)
    periods = report_book(child_sub, found["given_name"])
    return render_template("child.html", user=user, child=found, periods=periods)
