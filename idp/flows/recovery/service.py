"""Self-help: the forgotten identifier and the forgotten password, as plain functions.

No enumeration: asking queues a job (idp.jobs) and returns at once, so the page, its status and
its timing are the same whether or not an account matches. The job looks the account up and
sends the mail, or nothing: only active accounts with a confirmed address get mail (a
provisional account has its letter; the school helps the others). Mails to one address or
account are capped (``MAILS_PER_TARGET``) so that nobody can flood a parent's mailbox.

The reset link is a Flow (idp.flows.links): single use, valid IDP_RESET_LINK_TTL, cancelled by a
newer one. Choosing the new password ends every session, token and pending code of the account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from limits import parse_many
from sqlalchemy import func, select, update

from idp import audit, jobs, mail, sessions
from idp.extensions import db, limiter
from idp.flows import links
from idp.models import Account, Flow
from idp.models.accounts import ACTIVE
from idp.models.flows import EMAIL_CHANGE, PASSWORD_RESET
from idp.oidc import tokens
from idp.passwords import hash_password, policy_problems, secret_hash

MAILS_PER_TARGET = "3 per 10 minutes;10 per day"

# Outcomes, for the views to pick a page.
VALID = "valid"  # the link works: show the form
INVALID = "invalid"  # field errors to show beside the fields
RESET = "reset"  # the new password holds
UNKNOWN_LINK = links.UNKNOWN
EXPIRED_LINK = links.EXPIRED
REPLACED_LINK = links.REPLACED
USED_LINK = links.USED
UNAVAILABLE = "unavailable"  # the account was locked or disabled since the link was sent


@dataclass
class Result:
    outcome: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    account: Account | None = None


def ask_identifiers(email: str) -> None:
    """Forgotten identifier: the identifiers of the active accounts using ``email``, by mail."""
    jobs.run_later(current_app._get_current_object(), send_identifiers, email.strip())


def ask_reset_link(identifier: str) -> None:
    """Forgotten password: a reset link to the account's confirmed address, if it may have one."""
    jobs.run_later(current_app._get_current_object(), send_reset_link, identifier.strip().lower())


def _may_mail(kind: str, target: str) -> bool:
    """Within the mail budget of one address or account (counted in the rate-limit storage)."""
    key = secret_hash(target.lower())
    return all(
        limiter.limiter.hit(item, "idp-mail", kind, key) for item in parse_many(MAILS_PER_TARGET)
    )


def send_identifiers(email: str) -> None:
    """The job behind ask_identifiers: one mail listing every matching identifier, or nothing."""
    accounts = db.session.scalars(
        select(Account)
        .where(
            func.lower(Account.email) == email.lower(),
            Account.status == ACTIVE,
            Account.email_verified.is_(True),
        )
        .order_by(Account.identifier)
    ).all()
    masked = mail.mask(email)
    if not accounts:
        audit.record("recovery_requested", kind="identifier", outcome="no_account", email=masked)
        return
    outcome = "mail_limit"
    if _may_mail("identifier", email):
        outcome = _send(
            accounts[0].email,
            "identifier_reminder",
            subject=_("Votre identifiant de compte parent"),
            accounts=accounts,
            login_link=mail.provider_url("login.login"),
        )
    for account in accounts:
        audit.record(
            "recovery_requested",
            account,
            commit=False,
            kind="identifier",
            outcome=outcome,
            email=masked,
        )
    db.session.commit()


def send_reset_link(identifier: str) -> None:
    """The job behind ask_reset_link: a new single-use link (older ones stop working)."""
    account = db.session.scalar(select(Account).filter_by(identifier=identifier))
    if account is None or not account.is_active or not account.email_verified or not account.email:
        status = account.status if account is not None else None
        audit.record(
            "recovery_requested", account, kind="password", outcome="no_mail", status=status
        )
        return
    if not _may_mail("password", str(account.id)):
        audit.record("recovery_requested", account, kind="password", outcome="mail_limit")
        return
    ttl = current_app.config["RESET_LINK_TTL"]
    flow, token = links.create(PASSWORD_RESET, account, account.email, ttl)
    db.session.commit()
    outcome = _send(
        account.email,
        "password_reset",
        subject=_("Choisissez un nouveau mot de passe"),
        account=account,
        link=mail.provider_url("recovery.reset_password", token=token),
        minutes=ttl // 60,
    )
    audit.record(
        "recovery_requested",
        account,
        commit=False,
        kind="password",
        outcome=outcome,
        email=mail.mask(account.email),
    )
    if outcome == "mail_sent":
        links.mark_mailed(flow)  # commits the audit event too
    db.session.commit()


def _send(to: str, template: str, subject: str, **context) -> str:
    try:
        mail.send(to, template, subject=subject, **context)
    except mail.MailError:
        return "mail_failed"
    return "mail_sent"


def _link(token: str) -> tuple[Flow | None, str | None]:
    """The link's flow and, if it can't be used, why."""
    flow, problem = links.check(token, PASSWORD_RESET)
    if problem is not None:
        return flow, problem
    if flow.email != flow.account.email:  # sent to an address the account no longer has
        return flow, REPLACED_LINK
    if not flow.account.is_active:
        return flow, UNAVAILABLE
    return flow, None


def open_link(token: str) -> Result:
    """Whether the mailed link can still be used (it is not spent by looking)."""
    flow, problem = _link(token)
    return Result(problem or VALID, account=flow.account if flow else None)


def reset_password(token: str, password: str) -> Result:
    """Spend the link and set the password; then nothing signed in before stays signed in."""
    flow, problem = _link(token)
    if problem is not None:
        return Result(problem, account=flow.account if flow else None)
    account = flow.account
    personal = [account.identifier, account.given_name, account.family_name]
    problems = policy_problems(password, personal, None)
    if problems:
        return Result(INVALID, errors={"new_password": problems}, account=account)
    if not links.use(flow):
        db.session.rollback()
        return Result(USED_LINK, account=account)
    changed = db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.status == ACTIVE)
        .values(
            password_hash=hash_password(password),
            failed_logins=0,
            next_login_at=None,
            failures_in_window=0,
            failure_window_start=None,
        )
    )
    if changed.rowcount != 1:
        db.session.rollback()
        return Result(UNAVAILABLE, account=account)
    links.cancel_all(account, PASSWORD_RESET)
    links.cancel_all(account, EMAIL_CHANGE)  # an address change asked by whoever got in dies too
    end_everything(account.id)
    audit.record("password_reset", account, commit=False)
    db.session.commit()
    jobs.run_later(current_app._get_current_object(), send_password_changed, account.id)
    return Result(RESET, account=account)


def end_everything(account_id: int) -> None:
    """End every sign-in session and revoke every token and unused code of the account."""
    sessions.end_account_sessions(account_id)
    tokens.revoke_account(account_id)


def send_password_changed(account_id: int) -> None:
    """The notice after a reset, to the account's confirmed address."""
    account = db.session.get(Account, account_id)
    if account is None or not account.email:
        return
    outcome = _send(
        account.email,
        "password_changed",
        subject=_("Votre mot de passe a été modifié"),
        account=account,
    )
    audit.record("password_changed_notice", account, outcome=outcome)
