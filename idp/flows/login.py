"""Signing in on the hosted login page, and the gate that keeps inactive accounts on their step."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from idp import audit, i18n, sessions
from idp.extensions import db, limiter
from idp.flows import throttle
from idp.messages import lazy_message, message
from idp.models import Account
from idp.models.accounts import DISABLED, LOCKED, PROVISIONAL
from idp.models.base import utcnow
from idp.oidc import interactions
from idp.oidc.server import query_client
from idp.passwords import check_password_evenly, spend_password_check_time

bp = Blueprint("login", __name__)


class LoginForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"),
        validators=[DataRequired(lazy_message("field.identifier_missing")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(lazy_message("field.password_missing_login")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


@dataclass(frozen=True)
class SignInResult:
    account: Account | None
    refusal: str | None = None  # what to tell the parent when account is None
    retry_after: int | None = None  # seconds, when the try came during a delay (429)


def authenticate(identifier: str, password: str) -> SignInResult:
    """Check an identifier and password, with the brute-force delays of idp.flows.throttle.

    Every refusal, its timing (a dummy hash for unknown identifiers) and its delays are the same
    whether or not the identifier exists.
    """
    identifier = identifier.strip().lower()
    account = db.session.scalar(db.select(Account).filter_by(identifier=identifier))
    now = throttle.now()
    retry_at = throttle.retry_at(account, identifier, now)
    if retry_at is not None:
        audit.record("login_throttled", account=account)
        return SignInResult(
            None, throttle.wait_message(retry_at, now), throttle.seconds_until(retry_at, now)
        )
    if account is None:
        spend_password_check_time(password)
    if account is None or not check_password_evenly(password, account.password_hash):
        failure = throttle.count_failure(account, identifier, now)
        audit.record("login_failed", account=account, failures=failure.in_a_row)
        return SignInResult(None, throttle.failure_message(failure, now))
    refusal = _status_refusal(account)
    if refusal is not None:
        return SignInResult(None, refusal)
    throttle.count_success(account)
    return SignInResult(account)


def _status_refusal(account: Account) -> str | None:
    """Why the right password still can't sign in (said only to whoever knows the password)."""
    if account.status == LOCKED:
        return message("login.account_locked")
    if account.status == DISABLED:
        return message("login.account_disabled")
    expiry = account.provisional_expires_at
    if account.status == PROVISIONAL and expiry is not None and expiry < utcnow():
        return message("login.provisional_expired")
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(throttle.LOGIN_LIMITS, methods=["POST"])
def login() -> Response | str:
    fresh = request.values.get("fresh") == "1"
    if request.method == "GET" and not fresh and sessions.current_session() is not None:
        return _after_sign_in()
    form = LoginForm()
    if request.method == "GET" and request.args.get("login_hint"):
        form.identifier.data = request.args["login_hint"][:64]
    refusal, retry_after = None, None
    if form.validate_on_submit():
        result = authenticate(form.identifier.data, form.password.data)
        if result.account is not None:
            sessions.sign_out()
            sessions.sign_in(
                result.account,
                user_agent=request.user_agent.string,
                ip_address=request.remote_addr or "",
            )
            audit.record("login", account=result.account)
            if result.account.locale is None:  # a choice made on the switch stays
                i18n.remember_for_account(result.account)
            return _after_sign_in()
        refusal, retry_after = result.refusal, result.retry_after
    waiting = interactions.peek(session.get("interaction"), sessions.browser_id())
    page = render_template(
        "login/login.html",
        form=form,
        refusal=refusal,
        fresh=fresh,
        client_name=_client_name(waiting.client_id) if waiting else None,
    )
    if retry_after is not None:
        return page, 429, {"Retry-After": str(retry_after)}
    return page, (401 if refusal else 200)


def _client_name(client_id: str) -> str | None:
    client = query_client(client_id)
    return client.name if client else None


def _after_sign_in() -> Response:
    """Back to the waiting teleservice if any; else the portal (the gate may step in first)."""
    interaction_id = session.get("interaction")
    if interaction_id:
        return redirect(url_for("oidc.resume", interaction_id=interaction_id))
    return redirect(url_for("portal.home"))
