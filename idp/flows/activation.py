"""The activation step: where a provisional or pending account is held.

For now the page says what to do; the activation flow itself (email, new password, child's
birth date, confirmation mail) fills this blueprint next.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from idp import sessions

bp = Blueprint("activation", __name__)


@bp.get("/activation")
def required() -> Response | str:
    account = sessions.current_account()
    if account is None:
        return redirect(url_for("login.login"))
    if account.is_active:
        return redirect(url_for("portal.home"))
    children = account.children
    return render_template(
        "activation/required.html", account=account, child=children[0] if children else None
    )
