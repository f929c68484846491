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

from sqlalchemy import select

from idp.accounts import events, lifecycle
from idp.extensions import db
from idp.models import Account, AuditEvent
from idp.models.accounts import DISABLED, LOCKED_BIRTHDATE, LOCKED_NOT_GUARDIAN, PROVISIONAL
from idp.models.base import utcnow
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
    """Start the account over (idp.accounts.lifecycle.helpdesk_reset); returns the new
    provisional password. Commits once.

    `deliver` gets the new letter before the commit (see families.import_families): if it
    raises, nothing changes.
    """
    if account.status == DISABLED:
        raise ProvisioningError(
            f"account {account.identifier} is disabled: a reset won't enable it"
        )
    password = provisional_password()
    try:
        ended = lifecycle.helpdesk_reset(account, hash_provisional(password), provisional_expiry())
        if ended is None:
            raise ProvisioningError(f"account {account.identifier} changed meanwhile: try again")
        if deliver is not None:
            deliver(letter_for(account, password))
        events.commit()
    except BaseException:
        events.rollback()
        raise
    return password


def letter_for(account: Account, password: str) -> Letter:
    children = account.children
    schools = {child.school.uai: child.school.name or child.school.uai for child in children}
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
