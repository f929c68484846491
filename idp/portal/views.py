"""The parent's portal: the children linked to the account, and the way out."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from idp import sessions

bp = Blueprint("portal", __name__)


@bp.get("/")
def home() -> Response | str:
    account = sessions.current_account()
    if account is None:
        return redirect(url_for("login.login"))
    return render_template("portal/home.html", account=account)
