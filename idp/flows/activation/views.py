"""The activation pages: the form, "check your mail", the mailed link, the wrong-child report.

The gate (idp.flows.login) holds a signed-in provisional or pending account here, whatever URL
it asks for. When the mailed link is followed in the browser that holds the teleservice's
pending request, the request resumes and the parent lands back on the teleservice.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from idp import sessions
from idp.extensions import limiter
from idp.flows import mailed_links
from idp.flows.activation import service
from idp.flows.activation.forms import ActivationForm, ConfirmForm, EmailForm
from idp.flows.gate import login_required
from idp.flows.outcome import Result, show_errors
from idp.models import Account
from idp.models.accounts import PENDING_EMAIL, PROVISIONAL
from idp.models.flows import EMAIL_CONFIRMATION
from idp.oidc import interactions

bp = Blueprint("activation", __name__, url_prefix="/activation")


def _account_key() -> str:
    account = sessions.current_account()
    return f"activation-mail:{account.id if account else 'none'}"


@bp.route("", methods=["GET", "POST"])
@login_required
def required() -> Response | str | tuple[str, int]:
    account = sessions.current_account()
    if account.status == PENDING_EMAIL:
        return _check_mail(account, service.mail_state(account))
    if account.status != PROVISIONAL:
        return _continue()
    form = ActivationForm()
    status = 200
    if form.is_submitted():  # CSRFProtect has checked the token before this view
        form.validate()
        result = service.activate(
            account,
            form.email.data if not form.email.errors else None,
            form.new_password.data,
            form.child_birthdate.data if not form.child_birthdate.errors else None,
            form_valid=not form.errors,
        )
        if result.outcome == service.LOCKED_NOW:
            sessions.sign_out()
            return render_template("activation/locked.html"), 403
        if result.outcome == service.PENDING:
            return _check_mail(account, mailed_links.MAIL_QUEUED)
        if result.outcome == service.ALREADY:  # another window was first
            return _check_mail(account, service.mail_state(account), already=True)
        show_errors(form, result.errors)
    if form.errors:
        status = 400
    child = service.child_to_confirm(account)
    page = render_template(
        "activation/form.html",
        form=form,
        account=account,
        child=child,
        max_tries=service.MAX_BIRTHDATE_FAILURES,
    )
    return page, status


def _check_mail(
    account, mail_state: str, already: bool = False, email_form: EmailForm | None = None
) -> str:
    """ "Check your mail": the mail is on its way (queued: it leaves even if the SMTP server is
    away right now), has left, or is unknown (given up: the page offers a new one)."""
    return render_template(
        "activation/check_mail.html",
        account=account,
        mail_state=mail_state,
        already=already,
        email_form=email_form or EmailForm(formdata=None),
        resend_form=ConfirmForm(formdata=None),
    )


def _just_queued(result: Result, account: Account) -> str:
    """The mail this request queued is on its way; otherwise, what is known of the last one."""
    if result.outcome == service.PENDING:
        return mailed_links.MAIL_QUEUED
    return service.mail_state(account)


@bp.post("/resend")
@limiter.limit("3 per 10 minutes;10 per day", key_func=_account_key)
@login_required
def resend() -> Response | str | tuple[str, int]:
    account = sessions.current_account()
    if account.status != PENDING_EMAIL or not ConfirmForm().validate():
        return redirect(url_for("activation.required"))
    result = service.resend(account)
    return _check_mail(account, _just_queued(result, account))


@bp.post("/email")
@limiter.limit("3 per 10 minutes;10 per day", key_func=_account_key)
@login_required
def change_email() -> Response | str | tuple[str, int]:
    account = sessions.current_account()
    if account.status != PENDING_EMAIL:
        return redirect(url_for("activation.required"))
    form = EmailForm()
    if not form.validate():
        return _check_mail(account, service.mail_state(account), email_form=form), 400
    result = service.resend(account, email=form.email.data)
    return _check_mail(account, _just_queued(result, account))


@bp.route("/not-guardian", methods=["GET", "POST"])
@login_required
def not_guardian() -> Response | str | tuple[str, int]:
    """A step of its own: the page says what will happen; only its button reports."""
    account = sessions.current_account()
    if account.status != PROVISIONAL:
        return redirect(url_for("activation.required"))
    form = ConfirmForm()
    if request.method == "GET" or not form.validate():
        child = service.child_to_confirm(account)
        return render_template("activation/not_guardian.html", form=form, child=child)
    if service.report_not_guardian(account):
        sessions.sign_out()
        return render_template("activation/reported.html")
    return redirect(url_for("activation.required"))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Response | str | tuple[str, int]:
    """Opening the mailed link changes nothing (mail scanners open links too): the page asks
    for one press of a button, a POST back to this address (contract §4)."""
    if request.method == "GET":
        flow, problem = mailed_links.check(token, EMAIL_CONFIRMATION)
        if problem is None:
            page = render_template("activation/confirm_link.html", form=ConfirmForm(formdata=None))
            return page, 200
        return _link_problem(flow.account if flow else None, problem)
    result = service.confirm(token)  # CSRFProtect has checked the button's token
    if result.outcome == service.CONFIRMED:
        return _continue(confirmed_id=result.account.id)
    return _link_problem(result.account, result.outcome)


def _link_problem(account, problem: str) -> tuple[str, int]:
    active = account is not None and account.is_active
    message = mailed_links.problem_message(problem)
    page = render_template("activation/link_problem.html", message=message, active=active)
    return page, 200 if active else 400


def _continue(confirmed_id: int | None = None) -> Response | str:
    """Back to the waiting teleservice when this browser is the one that started there.

    After a confirmation (``confirmed_id``), only a browser signed in to that same account
    resumes; any other sees the confirmation page and signs in.
    """
    login_session = sessions.current_session()
    mine = login_session is not None and confirmed_id in (None, login_session.account_id)
    if mine and confirmed_id is not None:
        sessions.renew()  # provisional → active: a privilege change, a new session token
    if mine and login_session.account.is_active:
        waiting = interactions.peek(session.get("interaction"), sessions.browser_id())
        if waiting is not None:
            return redirect(url_for("oidc.resume", interaction_id=waiting.id))
        if confirmed_id is None:
            return redirect(url_for("portal.home"))
    return render_template("activation/confirmed.html", signed_in=mine)
