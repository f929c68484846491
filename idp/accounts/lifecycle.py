"""Every change of an account's status or credentials: one function each.

Each function is a conditional update (``UPDATE account … WHERE status = expected``), so that
two submits at once, from two browsers, apply once on SQLite and PostgreSQL alike; it returns
whether this call made the change, emits the event that says what happened
(``idp.accounts.events``) and leaves the commit to its caller (``events.commit()``), which
commits the change together with the rest of the step (a spent link, a new one).

Statuses: provisional → pending_email (activation) → active (the mailed link); locked (too many
failures, a "not the legal guardian" report) and back through ``unlock`` or ``helpdesk_reset``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, literal, or_, update

from idp.accounts import events
from idp.accounts.revocation import Ended, cancel_links, end_access, end_sessions
from idp.extensions import db
from idp.models import Account
from idp.models.accounts import (
    ACTIVE,
    DISABLED,
    LOCKED,
    LOCKED_BIRTHDATE,
    LOCKED_NOT_GUARDIAN,
    PENDING_EMAIL,
    PROVISIONAL,
)
from idp.models.base import UTCDateTime

LOCKED_LOGIN_FAILURES = "too_many_login_failures"
MAX_BIRTHDATE_FAILURES = 5
DAY = timedelta(days=1)
CLEAR_LOGIN_FAILURES = {
    "failed_logins": 0,
    "next_login_at": None,
    "failures_in_window": 0,
    "failure_window_start": None,
}


def _move(account: Account, change: str, condition: Any, **values: Any) -> bool:
    """Change the account where ``condition`` still holds; True if this call did."""
    events.before_update.send(change, account_id=account.id)
    statement = update(Account).where(Account.id == account.id, condition).values(values)
    changed = db.session.execute(statement).rowcount == 1
    if changed:
        db.session.refresh(account)
    return changed


# Activation


def activate(account: Account, email: str, password_hash: str) -> bool:
    """Provisional → pending_email: the parent's own password holds at once; the address
    waits for its mailed link."""
    if not _move(
        account,
        "activate",
        Account.status == PROVISIONAL,
        password_hash=password_hash,
        email=email,
        email_verified=False,
        status=PENDING_EMAIL,
        activation_failures=0,
        provisional_expires_at=None,
    ):
        return False
    events.emit("account.activated", account.id, email=email)
    return True


def correct_pending_email(account: Account, email: str) -> bool:
    """A pending account corrects the address its confirmation link goes to."""
    old = account.email
    if not _move(account, "correct_pending_email", Account.status == PENDING_EMAIL, email=email):
        return False
    events.emit("account.pending_email_changed", account.id, email=email, old_email=old)
    return True


def confirm_email(account: Account, email: str) -> bool:
    """Pending_email → active: the activation link was followed."""
    if not _move(
        account,
        "confirm_email",
        Account.status == PENDING_EMAIL,
        status=ACTIVE,
        email_verified=True,
    ):
        return False
    events.emit("account.confirmed", account.id, email=email)
    return True


def count_wrong_birthdate(account: Account) -> bool:
    """One more wrong birth date at activation; True when it locked the account (the fifth)."""
    _move(
        account,
        "count_wrong_birthdate",
        Account.status == PROVISIONAL,
        activation_failures=Account.activation_failures + 1,
    )
    events.emit("account.birthdate_wrong", account.id, failures=account.activation_failures)
    if account.activation_failures < MAX_BIRTHDATE_FAILURES:
        return False
    lock(account, LOCKED_BIRTHDATE, only_from=(PROVISIONAL,))
    return True


def report_not_guardian(account: Account, child_ref: str | None) -> bool:
    """ "Je ne suis pas le représentant légal de cet enfant": the activation stops there."""
    if not lock(account, LOCKED_NOT_GUARDIAN, only_from=(PROVISIONAL,)):
        return False
    events.emit("account.not_guardian_reported", account.id, child_ref=child_ref)
    return True


# Locks


def lock(account: Account, reason: str, only_from: tuple[str, ...] | None = None) -> bool:
    """Lock the account (from ``only_from`` statuses, or any but locked and disabled); its
    sign-in sessions end."""
    condition = (
        Account.status.in_(only_from) if only_from else Account.status.not_in((LOCKED, DISABLED))
    )
    if not _move(account, "lock", condition, status=LOCKED, locked_reason=reason):
        return False
    events.emit("account.locked", account.id, reason=reason)
    end_sessions(account.id, "locked")
    return True


def unlock(account: Account) -> bool:
    """Back to where the lock found the account, failure counters cleared: a lock at
    activation goes back to the activation; others to active (pending if unconfirmed)."""
    if account.locked_reason in (LOCKED_BIRTHDATE, LOCKED_NOT_GUARDIAN):
        status = PROVISIONAL
    elif account.email_verified:
        status = ACTIVE
    else:
        status = PENDING_EMAIL if account.email else PROVISIONAL
    reason = account.locked_reason
    if not _move(
        account,
        "unlock",
        Account.status == LOCKED,
        status=status,
        locked_reason=None,
        activation_failures=0,
        **CLEAR_LOGIN_FAILURES,
    ):
        return False
    events.emit("account.unlocked", account.id, reason=reason, status=status)
    return True


# Login failures (brute-force protection: idp.flows.throttle decides, this counts)


def count_login_failure(account: Account, at: datetime) -> tuple[int, int]:
    """One atomic update: the failure counts, and a new 24-hour window if the last one is over.
    Every expression of the SET reads the row as it was, so concurrent failures each add one.
    Returns the failures in a row and in the window."""
    new_window = or_(
        Account.failure_window_start.is_(None), Account.failure_window_start <= at - DAY
    )
    return db.session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(
            failed_logins=Account.failed_logins + 1,
            failures_in_window=case((new_window, 1), else_=Account.failures_in_window + 1),
            failure_window_start=case(
                (new_window, literal(at, UTCDateTime())), else_=Account.failure_window_start
            ),
        )
        .returning(Account.failed_logins, Account.failures_in_window),
        execution_options={"synchronize_session": False},
    ).one()


def delay_logins(account: Account, in_a_row: int, until: datetime) -> None:
    """The next try waits until ``until``, unless another failure has counted since."""
    db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.failed_logins == in_a_row)
        .values(next_login_at=until),
        execution_options={"synchronize_session": False},
    )


def count_login_success(account: Account) -> None:
    """The right password, on time: the failures in a row start again from zero."""
    db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.failed_logins > 0)
        .values(failed_logins=0, next_login_at=None)
    )


# Credentials


def change_password(account: Account, password_hash: str, keep_session: str) -> Ended | None:
    """The parent changed the password (the caller checked the current one): every other
    session ends, every token and pending link dies. None if it changed meanwhile."""
    unchanged = Account.password_hash == account.password_hash
    if not _move(account, "change_password", unchanged, password_hash=password_hash):
        return None
    ended = end_access(account.id, "password_changed", keep_session=keep_session)
    events.emit("account.password_changed", account.id, **ended.counts())
    return ended


def reset_password(account: Account, password_hash: str) -> Ended | None:
    """The forgotten-password link was followed: the new password holds, the failure
    counters clear, and nothing signed in before stays signed in. None if no longer active."""
    if not _move(
        account,
        "reset_password",
        Account.status == ACTIVE,
        password_hash=password_hash,
        **CLEAR_LOGIN_FAILURES,
    ):
        return None
    ended = end_access(account.id, "password_reset")
    events.emit("account.password_reset", account.id, **ended.counts())
    return ended


def helpdesk_reset(account: Account, password_hash: str, expires_at: datetime) -> Ended | None:
    """The school starts the parent over: provisional with a new letter's password, unlocked,
    counters cleared, the address kept but unverified. None for a disabled account."""
    previous = {"previous_status": account.status, "locked_reason": account.locked_reason}
    if not _move(
        account,
        "helpdesk_reset",
        Account.status != DISABLED,
        password_hash=password_hash,
        provisional_expires_at=expires_at,
        status=PROVISIONAL,
        email_verified=False,
        locked_reason=None,
        activation_failures=0,
        **CLEAR_LOGIN_FAILURES,
    ):
        return None
    ended = end_access(account.id, "helpdesk_reset")
    events.emit("account.reset", account.id, **previous, **ended.counts())
    return ended


def disable(account: Account, reason: str) -> Ended | None:
    """Disable the account (retention: unused for years; the school console: a "not the legal
    guardian" report confirmed on its only child); everything it opened ends. None if it is
    already disabled."""
    if not _move(
        account, "disable", Account.status != DISABLED, status=DISABLED, locked_reason=reason
    ):
        return None
    ended = end_access(account.id, "disabled")
    events.emit("account.disabled", account.id, reason=reason, **ended.counts())
    return ended


def warn_inactive(account: Account, at: datetime) -> bool:
    """Record that the account was warned of its coming disabling (once)."""
    if not _move(
        account,
        "warn_inactive",
        Account.inactivity_warned_at.is_(None),
        inactivity_warned_at=at,
    ):
        return False
    events.emit("account.inactivity_warned", account.id)
    return True


def clear_inactivity_warning(account: Account) -> None:
    """The parent came back after the warning: the count starts again."""
    _move(
        account,
        "clear_inactivity_warning",
        Account.inactivity_warned_at.is_not(None),
        inactivity_warned_at=None,
    )


def change_email(account: Account, email: str) -> bool:
    """An active account's new address, confirmed by its link: it holds, verified, and every
    other live link of the account dies (a reset sent to the old address)."""
    old = account.email
    if not _move(
        account, "change_email", Account.status == ACTIVE, email=email, email_verified=True
    ):
        return False
    cancel_links(account.id, "email_changed")
    events.emit("account.email_changed", account.id, email=email, old_email=old)
    return True
