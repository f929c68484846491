"""The "Gérer mon compte" pages: identity, children, teleservices, sessions, password, address.

Every page but the mailed link's needs a signed-in browser (the gate has already sent inactive
accounts to their activation step). The link works from any browser, signed in or not: it
changes only the address it was sent to, on the account it was sent for.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale

from idp import messages, sessions
from idp.extensions import limiter
from idp.flows import mailed_links
from idp.flows.account import personal_data as personal_data_service
from idp.flows.account import service, signed_in
from idp.flows.account.forms import ButtonForm, EmailForm, PasswordForm
from idp.flows.account.signed_in import describe_browser
from idp.flows.gate import login_required
from idp.flows.outcome import show_errors
from idp.messages import flash_message
from idp.models import LoginSession
from idp.models.flows import EMAIL_CHANGE

bp = Blueprint("account", __name__, url_prefix="/compte")

# Parents are in France: times on the pages are Paris times (UTC if the zone data is missing).
try:
    TIMEZONE = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without zone data
    TIMEZONE = ZoneInfo("UTC")


def local_time(moment: datetime) -> str:
    return format_datetime(moment, "d MMMM y, HH:mm", tzinfo=TIMEZONE, locale=get_locale())


@bp.context_processor
def _helpers() -> dict:
    return {"local_time": local_time}


def _current() -> LoginSession:
    login_session = sessions.current_session()
    assert login_session is not None  # login_required
    return login_session


def _account_key() -> str:
    login_session = sessions.current_session()
    return f"account:{login_session.account_id if login_session else 'none'}"


@bp.get("")
@login_required
def show() -> str:
    login_session = _current()
    account = login_session.account
    return render_template(
        "account/overview.html",
        account=account,
        pending=service.pending_email(account),
        teleservices=signed_in.teleservices(account),
        browsers=signed_in.active_sessions(account, login_session.id),
        button=ButtonForm(formdata=None),
    )


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", key_func=_account_key, methods=["POST"])
def change_password() -> Response | tuple[str, int]:
    login_session = _current()
    form = PasswordForm()
    if form.validate_on_submit():
        result = service.change_password(
            login_session.account,
            form.current_password.data,
            form.new_password.data,
            keep_session=login_session.id,
        )
        if result.outcome == service.DONE_NOW:
            sessions.renew()
            flash_message("account.password_changed")
            return redirect(url_for("account.show"))
        show_errors(form, result.errors)
    page = render_template("account/password.html", form=form)
    return page, 400 if form.errors else 200


@bp.route("/adresse", methods=["GET", "POST"])
@limiter.limit(
    "5 per hour;10 per day",
    key_func=_account_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 400,  # only what sent mail counts
)
@login_required
def change_email() -> Response | tuple[str, int]:
    account = _current().account
    form = EmailForm()
    if form.validate_on_submit():
        result = service.request_email_change(account, form.email.data)
        if result.outcome == service.PENDING:
            flash_message("account.email_change_sent", "info", email=form.email.data.strip())
            return redirect(url_for("account.show"))
        show_errors(form, result.errors)
    page = render_template("account/email.html", form=form, account=account)
    return page, 400 if form.errors else 200


@bp.route("/adresse/confirmer/<token>", methods=["GET", "POST"])
def confirm_email(token: str) -> tuple[str, int]:
    """Opening the mailed link changes nothing: its page has one button, a POST back here."""
    signed_in = sessions.current_account() is not None
    if request.method == "GET":
        _flow, problem = mailed_links.check(token, EMAIL_CHANGE)
        if problem is None:
            form = ButtonForm(formdata=None)
            return render_template("account/confirm_link.html", form=form), 200
        message = mailed_links.problem_message(problem)
        page = render_template("account/link_problem.html", message=message, signed_in=signed_in)
        return page, 400
    result = service.confirm_email(token)  # CSRFProtect has checked the button's token
    if result.outcome == service.DONE_NOW:
        page = render_template(
            "account/email_confirmed.html", email=result.account.email, signed_in=signed_in
        )
        return page, 200
    if result.outcome == service.INACTIVE:
        message = messages.message("account.inactive")
    else:
        message = mailed_links.problem_message(result.outcome)
    page = render_template("account/link_problem.html", message=message, signed_in=signed_in)
    return page, 400


@bp.post("/teleservices/<client_id>/revoquer")
@login_required
def revoke_client(client_id: str) -> Response:
    if ButtonForm().validate() and signed_in.revoke_client(_current().account, client_id):
        flash_message("account.client_revoked")
    return redirect(url_for("account.show"))


@bp.post("/sessions/<session_id>/terminer")
@login_required
def end_session(session_id: str) -> Response:
    login_session = _current()
    if ButtonForm().validate() and signed_in.end_session(
        login_session.account, session_id, current_id=login_session.id
    ):
        flash_message("account.session_ended")
    return redirect(url_for("account.show"))


@bp.post("/deconnexion-partout")
@login_required
def sign_out_everywhere() -> Response | str:
    if not ButtonForm().validate():
        return redirect(url_for("account.show"))
    signed_in.end_all_sessions(_current().account)
    sessions.sign_out()
    return render_template("account/signed_out.html")


@bp.get("/donnees")
@login_required
def personal_data() -> str:
    """ "Mes données": what is held, who received what, the recent sign-ins."""
    account = _current().account
    return render_template(
        "account/data.html",
        account=account,
        releases=personal_data_service.releases(account),
        sign_ins=personal_data_service.recent_sign_ins(account),
        describe_browser=describe_browser,
        claim_labels=personal_data_service.CLAIM_LABELS,
    )


@bp.get("/donnees.json")
@login_required
def personal_data_download() -> Response:
    """All of it as one JSON file (GDPR art. 20), never cached."""
    account = _current().account
    body = json.dumps(personal_data_service.export(account), ensure_ascii=False, indent=2)
    filename = f"mes-donnees-{account.identifier}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
