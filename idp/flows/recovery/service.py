"""Self-help: the forgotten identifier and the forgotten password, as plain functions.

No enumeration: asking queues a job (idp.jobs) and returns at once, so the page, its status and
its timing are the same whether or not an account matches. The job looks the account up and
queues the mail in the outbox (idp.outbox delivers it), or nothing: only active accounts with a
confirmed address get mail (a provisional account has its letter; the school helps the others).
Mails to one address or account are capped (``MAILS_PER_TARGET``) so that nobody can flood a
parent's mailbox.

The reset link is a Flow (idp.flows.mailed_links): single use, valid IDP_RESET_LINK_TTL,
cancelled by a newer one. Choosing the new password ends every session, token and pending code
of the account.
"""

from __future__ import annotations

from flask import current_app
from limits import parse_many
from sqlalchemy import func, select

from idp import audit, jobs, mail, mails
from idp.accounts import events, lifecycle
from idp.extensions import db, limiter
from idp.flows import mailed_links
from idp.flows.outcome import Result
from idp.models import Account, Flow
from idp.models.accounts import ACTIVE
from idp.models.flows import PASSWORD_RESET
from idp.passwords import hash_password, policy_problems, secret_hash

MAILS_PER_TARGET = "3 per 10 minutes;10 per day"

# Outcomes, for the views to pick a page (and the links' problems: mailed_links.UNKNOWN, …).
VALID = "valid"  # the link works: show the form
INVALID = "invalid"  # field errors to show beside the fields
RESET = "reset"  # the new password holds
UNAVAILABLE = "unavailable"  # the account was locked or disabled since the link was sent


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
        mails.identifier_reminder(accounts[0].email, accounts)
        outcome = "mail_queued"
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
    flow, token = mailed_links.create(PASSWORD_RESET, account, account.email)
    mails.password_reset_link(account, flow, token)
    audit.record(
        "recovery_requested",
        account,
        commit=False,
        kind="password",
        outcome="mail_queued",
        email=mail.mask(account.email),
    )
    events.commit()


def _link(token: str) -> tuple[Flow | None, str | None]:
    """The link's flow and, if it can't be used, why."""
    flow, problem = mailed_links.check(token, PASSWORD_RESET)
    if problem is not None:
        return flow, problem
    if flow.email != flow.account.email:  # sent to an address the account no longer has
        return flow, mailed_links.CANCELLED_BY_CHANGE
    if not flow.account.is_active:
        return flow, UNAVAILABLE
    return flow, None


def open_link(token: str) -> Result:
    """Whether the mailed link can still be used (it is not spent by looking)."""
    flow, problem = _link(token)
    return Result(problem or VALID, account=flow.account if flow else None)


def reset_password(token: str, password: str) -> Result:
    """Spend the link and set the password; then nothing signed in before stays signed in
    (the lifecycle ends every session, token, code and link, and the notice follows)."""
    flow, problem = _link(token)
    if problem is not None:
        return Result(problem, account=flow.account if flow else None)
    account = flow.account
    personal = [account.identifier, account.given_name, account.family_name]
    problems = policy_problems(password, personal, None)
    if problems:
        return Result(INVALID, errors={"new_password": problems}, account=account)
    if not mailed_links.use(flow):
        events.rollback()
        return Result(mailed_links.USED, account=account)
    if lifecycle.reset_password(account, hash_password(password)) is None:
        events.rollback()
        return Result(UNAVAILABLE, account=account)
    events.commit()
    return Result(RESET, account=account)
