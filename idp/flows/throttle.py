"""Brute-force protection of the password, per account (CNIL, deliberation 2022-100).

For 12-character passwords CNIL asks for a delay after repeated failures and a cap per day:

- from the fifth wrong password in a row (``DELAY_FROM``), the next try waits ``FIRST_DELAY``
  seconds, then twice as long after each further failure, up to ``MAX_DELAY``. While the delay
  runs, every try is refused unchecked, the right password too;
- ``MAX_FAILURES_PER_DAY`` failures in a window of 24 hours (from the window's first failure) lock
  the account (``locked``, reason ``too_many_login_failures``): the school unlocks it;
- a successful sign-in clears the failures in a row (not the day's count).

Counters of accounts live in their row and move by atomic updates (``SET failed_logins =
failed_logins + 1``), so concurrent failures all count. An identifier that matches no account
gets the same counters in the rate-limit storage (memory, or Redis shared by all instances),
under a keyed hash of the identifier: its pages, statuses and delays are those an account would
get, so they never tell whether the identifier exists.

Per client address, Flask-Limiter limits the login and the self-help forms (``LOGIN_LIMITS``,
``SELF_HELP_LIMITS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from babel.dates import format_time
from flask_babel import get_locale

from idp.accounts import lifecycle
from idp.extensions import limiter
from idp.messages import Message, message
from idp.models import Account
from idp.models.base import utcnow
from idp.passwords import secret_hash
from idp.timezone import TIMEZONE

DELAY_FROM = 5  # the failure in a row after which the next try waits
WARN_FROM = 3  # the failure in a row from which the page warns that a delay will follow
FIRST_DELAY = 60  # seconds, after the fifth failure in a row
MAX_DELAY = 3600  # seconds: doubling stops at one hour
MAX_FAILURES_PER_DAY = 25
DAY = 86400
LOCKED_LOGIN_FAILURES = lifecycle.LOCKED_LOGIN_FAILURES
# How long the storage remembers an unknown identifier's failures (from its first failure).
UNKNOWN_MEMORY = 90 * DAY
STORAGE_PREFIX = "idp-throttle"

# Per client address (Flask-Limiter syntax). Parents may share one address: a school's network
# at a meeting, a family centre, a mobile operator's NAT. The per-account delays above stop
# password guessing; these limits only stop one address from spraying many identifiers or
# mailing many people, so they leave room for a room full of parents signing in (a few tries
# each) and are far below what a script needs.
LOGIN_LIMITS = "20 per minute;200 per hour"
SELF_HELP_LIMITS = "10 per minute;60 per hour"  # shared by every self-help form


def now() -> datetime:
    """The throttle's clock (tests replace it to move through the delays)."""
    return utcnow()


def delay_after(failures: int) -> int:
    """Seconds to wait after ``failures`` wrong passwords in a row."""
    if failures < DELAY_FROM:
        return 0
    return min(FIRST_DELAY * 2 ** (failures - DELAY_FROM), MAX_DELAY)


@dataclass(frozen=True)
class Failure:
    in_a_row: int
    in_window: int
    retry_at: datetime | None  # when the next try is allowed, if it must wait

    @property
    def locks(self) -> bool:
        return self.in_window >= MAX_FAILURES_PER_DAY


def _retry_epoch(at: datetime, failures: int) -> int:
    """Whole seconds, so that accounts and unknown identifiers say the same number of minutes."""
    delay = delay_after(failures)
    return int(at.timestamp()) + delay if delay else 0


def _as_time(epoch: int) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def _key(identifier: str, *parts: object) -> str:
    return ":".join([STORAGE_PREFIX, secret_hash(identifier), *map(str, parts)])


def retry_at(account: Account | None, identifier: str, at: datetime) -> datetime | None:
    """When tries are allowed again, if they are not yet."""
    if account is not None:
        waiting = account.next_login_at
    else:
        storage = limiter.storage
        in_a_row = storage.get(_key(identifier, "n"))
        waiting = _as_time(storage.get(_key(identifier, "until", in_a_row))) if in_a_row else None
    return waiting if waiting is not None and waiting > at else None


def count_failure(account: Account | None, identifier: str, at: datetime) -> Failure:
    """One more wrong password; the caller commits (audit.record)."""
    if account is None:
        return _count_unknown(identifier, at)
    return _count_account(account, at)


def _count_account(account: Account, at: datetime) -> Failure:
    """The failure counts (one atomic update, idp.accounts.lifecycle); the delay starts; the
    25th of the window locks the account."""
    in_a_row, in_window = lifecycle.count_login_failure(account, at)
    retry = _as_time(_retry_epoch(at, in_a_row))
    if retry is not None:
        lifecycle.delay_logins(account, in_a_row, retry)
    failure = Failure(in_a_row, in_window, retry)
    if failure.locks:
        lifecycle.lock(account, LOCKED_LOGIN_FAILURES)
    return failure


def _count_unknown(identifier: str, at: datetime) -> Failure:
    """The same counters in the rate-limit storage; each value is written by one caller only.

    Storage counters only add, so a value that must be set (a time) is added once to a fresh key
    named after the count that only this caller's increment returned.
    """
    storage = limiter.storage
    epoch = int(at.timestamp())
    in_a_row = storage.incr(_key(identifier, "n"), UNKNOWN_MEMORY)
    window = storage.get(_key(identifier, "window"))
    started = storage.get(_key(identifier, "start", window)) if window else 0
    if not window or epoch - started >= DAY:
        window = storage.incr(_key(identifier, "window"), UNKNOWN_MEMORY)
        storage.incr(_key(identifier, "start", window), UNKNOWN_MEMORY, amount=epoch)
    in_window = storage.incr(_key(identifier, "count", window), UNKNOWN_MEMORY)
    retry = _retry_epoch(at, in_a_row)
    if retry:
        storage.incr(_key(identifier, "until", in_a_row), UNKNOWN_MEMORY, amount=retry)
    return Failure(in_a_row, in_window, _as_time(retry))


def count_success(account: Account) -> None:
    """The right password, on time: the failures in a row start again from zero."""
    lifecycle.count_login_success(account)


def minutes_until(when: datetime, at: datetime) -> int:
    return max(1, math.ceil((when - at).total_seconds() / 60))


def seconds_until(when: datetime, at: datetime) -> int:
    return max(1, math.ceil((when - at).total_seconds()))


def _clock(when: datetime) -> str:
    """The time of day the parent may try again, in Paris time and the page's language."""
    return format_time(when, "HH:mm", tzinfo=TIMEZONE, locale=get_locale())


def failure_message(failure: Failure, at: datetime) -> Message:
    """What a wrong password (or an unknown identifier) is told: the same words either way.

    From the ``WARN_FROM``th failure in a row, it warns that a delay will follow.
    """
    if failure.locks:
        return message("login.locked_now")
    if failure.retry_at is None:
        if failure.in_a_row >= WARN_FROM:
            return message("login.failed_warning", n=DELAY_FROM)
        return message("login.failed")
    minutes = minutes_until(failure.retry_at, at)
    return message("login.failed_wait", num=minutes, time=_clock(failure.retry_at))


def wait_message(when: datetime, at: datetime) -> Message:
    """What a try during the delay is told; the password was not checked."""
    return message("login.throttled", num=minutes_until(when, at), time=_clock(when))
