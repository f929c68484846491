"""The school director's help desk: start a stuck parent over, and say what became of an account.

A reset puts the account back where the letter left it: provisional, with a new provisional
password and expiry, unlocked, every counter of failures cleared. Whatever was signed in with
the old password stops working: sign-in sessions end, access and refresh tokens are revoked,
unused codes spent, mailed links cancelled. The email address is kept (the help desk may need
it) but no longer counts as verified: activation asks for an address again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from idp import audit, sessions
from idp.extensions import db
from idp.models import Account, AuditEvent, Flow
from idp.models.accounts import DISABLED, LOCKED_BIRTHDATE, LOCKED_NOT_GUARDIAN, PROVISIONAL
from idp.models.base import utcnow
from idp.models.flows import CANCELLED, SENT
from idp.oidc import tokens
from idp.passwords import provisional_password
from idp.provisioning.accounts import ProvisioningError, hash_provisional, provisional_expiry
from idp.provisioning.letters import Letter, short_date

# Why an account is locked, in the help desk's words (`locked_reason` → what to do).
LOCKED_REASONS = {
    LOCKED_BIRTHDATE: "5 wrong birth dates at activation: check the child's birth date with "
    "the parent, then reset",
    LOCKED_NOT_GUARDIAN: "the parent said at activation they are not the legal guardian of the "
    "child shown: check the links with the school before a reset",
    "too_many_login_failures": "too many wrong passwords in 24 hours: reset once the parent is "
    "identified",
}
MAIL_SCAN = 200  # the account's latest events searched for the last mail


def reset_account(account: Account, deliver: Callable[[Letter], None] | None = None) -> str:
    """Start the account over; returns the new provisional password. Commits once.

    `deliver` gets the new letter before the commit (see families.import_families): if it
    raises, nothing changes.
    """
    if account.status == DISABLED:
        raise ProvisioningError(
            f"account {account.identifier} is disabled: a reset won't enable it"
        )
    previous = {"previous_status": account.status, "locked_reason": account.locked_reason}
    password = provisional_password()
    account.password_hash = hash_provisional(password)
    account.provisional_expires_at = provisional_expiry()
    account.status = PROVISIONAL
    account.email_verified = False
    account.locked_reason = None
    account.activation_failures = account.failed_logins = account.failures_in_window = 0
    account.next_login_at = account.failure_window_start = None
    ended = _end_everything(account)
    try:
        db.session.flush()
        audit.record("account_reset", account, commit=False, **previous, **ended)
        if deliver is not None:
            deliver(letter_for(account, password))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return password


def _end_everything(account: Account) -> dict[str, int]:
    """End what the old credentials opened; how many of each, for the audit trail."""
    return {
        "sessions_ended": sessions.end_account_sessions(account.id),
        "links_cancelled": _set(
            Flow, {"account_id": account.id}, Flow.state == SENT, state=CANCELLED
        ),
        "tokens_revoked": tokens.revoke_account(account.id),
    }


def _set(model: type, owned: dict[str, Any], condition: Any, **values: Any) -> int:
    statement = update(model).filter_by(**owned).where(condition).values(**values)
    return db.session.execute(statement).rowcount


def letter_for(account: Account, password: str) -> Letter:
    children = account.children
    schools = {child.school.uai: child.school.name for child in children}
    return Letter(
        parent_name=account.name,
        identifier=account.identifier,
        password=password,
        expires_at=account.provisional_expires_at,
        children=[f"{c.given_name} {c.family_name} ({c.class_level})" for c in children],
        schools=list(schools.items()),
    )


def last_mail(account: Account) -> AuditEvent | None:
    """The latest audit event of a mail that left for the account (its details: masked email).

    Flows name these events `…mail_sent`, or record `outcome: mail_sent` in the details.
    """
    events = db.session.scalars(
        select(AuditEvent)
        .filter_by(account_id=account.id)
        .order_by(AuditEvent.id.desc())
        .limit(MAIL_SCAN)
    )
    for event in events:
        if event.event.endswith("mail_sent") or event.details.get("outcome") == "mail_sent":
            return event
    return None


def _moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def help_desk_notes(account: Account) -> list[str]:
    """What `idp accounts show` adds, in words, to the contract's fields."""
    notes = []
    if account.locked_reason:
        reason = LOCKED_REASONS.get(account.locked_reason, account.locked_reason)
        notes.append(f"why locked: {reason}")
    if account.status == PROVISIONAL and account.provisional_expires_at:
        expired = account.provisional_expires_at < utcnow()
        verb = "expired on" if expired else "expires on"
        notes.append(f"provisional password: {verb} {short_date(account.provisional_expires_at)}")
    mail = last_mail(account)
    if mail is None:
        notes.append("last mail: none sent")
    else:
        to = mail.details.get("email", "an address not recorded")
        notes.append(f"last mail: {mail.event} on {_moment(mail.at)} to {to}")
    notes.append(f"last sign-in: {_moment(account.last_login_at)}")
    if account.failed_logins:
        wait = f", next try from {_moment(account.next_login_at)}" if account.next_login_at else ""
        notes.append(f"wrong passwords in a row: {account.failed_logins}{wait}")
    return notes
