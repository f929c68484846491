"""Signing in on the hosted login page, and the gate that keeps inactive accounts on their step."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from idp import audit, sessions
from idp.extensions import db
from idp.models import Account
from idp.models.accounts import DISABLED, LOCKED, PROVISIONAL
from idp.models.base import utcnow
from idp.oidc import interactions
from idp.oidc.server import query_client
from idp.passwords import check_password, spend_password_check_time

bp = Blueprint("login", __name__)


class LoginForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"),
        validators=[DataRequired(_l("Saisissez votre identifiant.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Saisissez votre mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


@dataclass(frozen=True)
class SignInResult:
    account: Account | None
    refusal: str | None = None  # what to tell the parent when account is None


def authenticate(identifier: str, password: str) -> SignInResult:
    """Check an identifier and password. The refusal never says whether the identifier exists."""
    account = db.session.scalar(db.select(Account).filter_by(identifier=identifier.strip().lower()))
    if account is None:
        spend_password_check_time(password)
        return SignInResult(None, _("Identifiant ou mot de passe incorrect."))
    if not check_password(password, account.password_hash):
        audit.record("login_failed", account=account)
        return SignInResult(None, _("Identifiant ou mot de passe incorrect."))
    if account.status == LOCKED:
        return SignInResult(
            None, _("Votre compte est bloqué. Adressez-vous au directeur de l'école.")
        )
    if account.status == DISABLED:
        return SignInResult(None, _("Ce compte est désactivé. Adressez-vous à l'école."))
    expiry = account.provisional_expires_at
    if account.status == PROVISIONAL and expiry is not None and expiry < utcnow():
        return SignInResult(
            None,
            _(
                "Votre mot de passe provisoire a expiré. "
                "Demandez un nouveau courrier à l'école de votre enfant."
            ),
        )
    return SignInResult(account)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    fresh = request.values.get("fresh") == "1"
    if request.method == "GET" and not fresh and sessions.current_session() is not None:
        return _after_sign_in()
    form = LoginForm()
    if request.method == "GET" and request.args.get("login_hint"):
        form.identifier.data = request.args["login_hint"][:64]
    refusal = None
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
            return _after_sign_in()
        refusal = result.refusal
    waiting = interactions.peek(session.get("interaction"), sessions.browser_id())
    return render_template(
        "login/login.html",
        form=form,
        refusal=refusal,
        fresh=fresh,
        client_name=_client_name(waiting.client_id) if waiting else None,
    ), (401 if refusal else 200)


def _client_name(client_id: str) -> str | None:
    client = query_client(client_id)
    return client.name if client else None


def _after_sign_in() -> Response:
    """Back to the waiting teleservice if any; else the portal (the gate may step in first)."""
    interaction_id = session.get("interaction")
    if interaction_id:
        return redirect(url_for("oidc.resume", interaction_id=interaction_id))
    return redirect(url_for("portal.home"))


# Where an account that is not active may still go: its own step, sign-out, the OIDC pipeline
# (which applies the same rule through oidc.policy) and static files.
OPEN_TO_INACTIVE = ("activation.", "oidc.", "static", "login.")


def _gate() -> Response | None:
    endpoint = request.endpoint or ""
    if endpoint.startswith(OPEN_TO_INACTIVE):
        return None
    account = sessions.current_account()
    if account is not None and not account.is_active:
        return redirect(url_for("activation.required"))
    return None


def init_gate(app: Flask) -> None:
    app.before_request(_gate)
