"""Staff sign-in: email and password, then the second factor, with the parents' brute-force
protection (idp.flows.throttle): the same delays after failures in a row, the same daily cap
that locks, the same answers whether or not the address is a staff member's. A wrong second
factor counts as a failure too (a 6-digit code is guessable without it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, literal, or_, update

from idp import audit
from idp.extensions import db
from idp.flows import throttle
from idp.messages import message
from idp.models import Staff
from idp.models.base import UTCDateTime
from idp.models.staff import ACTIVE, DISABLED, ENROLLING, LOCKED
from idp.passwords import check_password, spend_password_check_time

KEY_PREFIX = "staff:"  # unknown addresses' counters, apart from parents' identifiers


@dataclass(frozen=True)
class Attempt:
    staff: Staff | None
    refusal: str | None = None
    retry_after: int | None = None


def _find(email: str) -> Staff | None:
    return db.session.scalar(db.select(Staff).filter_by(email=email.strip().lower()))


def check_password_step(email: str, password: str) -> Attempt:
    """Step one; a staff member in ACTIVE or ENROLLING status is returned when it passes."""
    staff = _find(email)
    key = KEY_PREFIX + email.strip().lower()
    now = throttle.now()
    waiting = throttle.retry_at(staff, key, now)
    if waiting is not None:
        audit.record("staff_login_throttled", staff_id=staff.id if staff else None)
        return Attempt(
            None, throttle.wait_message(waiting, now), throttle.seconds_until(waiting, now)
        )
    usable = staff is not None and staff.password_hash and staff.status in (ACTIVE, ENROLLING)
    if not usable:
        spend_password_check_time(password)
    if not usable or not check_password(password, staff.password_hash):
        return failed(staff, key, now)
    return Attempt(staff)


def failed(staff: Staff | None, key: str, now: datetime) -> Attempt:
    """One more failure (password or second factor); commits."""
    failure = _count(staff, now) if staff is not None else throttle.count_failure(None, key, now)
    audit.record(
        "staff_login_failed", staff_id=staff.id if staff else None, failures=failure.in_a_row
    )
    if failure.locks:  # the parents' words send them to the school: staff go to the operator
        return Attempt(None, message("console.locked_now"))
    return Attempt(None, throttle.failure_message(failure, now))


def second_factor_failed(staff: Staff) -> Attempt:
    """A wrong code counts as a failure; it is told so, unless a delay or the lock follows."""
    attempt = failed(staff, KEY_PREFIX + staff.email, throttle.now())
    if getattr(attempt.refusal, "id", None) == "login.failed":
        return Attempt(None, message("console.code_wrong"))
    return attempt


def waiting_refusal(staff: Staff) -> Attempt | None:
    """The second factor during a delay is refused unchecked, as a password would be."""
    now = throttle.now()
    waiting = throttle.retry_at(staff, KEY_PREFIX + staff.email, now)
    if waiting is None:
        return None
    return Attempt(None, throttle.wait_message(waiting, now), throttle.seconds_until(waiting, now))


def _count(staff: Staff, at: datetime) -> throttle.Failure:
    """The parents' atomic update (idp.flows.throttle), on the staff table."""
    new_window = or_(
        Staff.failure_window_start.is_(None),
        Staff.failure_window_start <= at - timedelta(seconds=throttle.DAY),
    )
    in_a_row, in_window = db.session.execute(
        update(Staff)
        .where(Staff.id == staff.id)
        .values(
            failed_logins=Staff.failed_logins + 1,
            failures_in_window=case((new_window, 1), else_=Staff.failures_in_window + 1),
            failure_window_start=case(
                (new_window, literal(at, UTCDateTime())), else_=Staff.failure_window_start
            ),
        )
        .returning(Staff.failed_logins, Staff.failures_in_window),
        execution_options={"synchronize_session": False},
    ).one()
    delay = throttle.delay_after(in_a_row)
    # Whole seconds, as for parents: the same minutes said whatever the address.
    retry = datetime.fromtimestamp(int(at.timestamp()) + delay, UTC) if delay else None
    if retry is not None:
        db.session.execute(
            update(Staff)
            .where(Staff.id == staff.id, Staff.failed_logins == in_a_row)
            .values(next_login_at=retry),
            execution_options={"synchronize_session": False},
        )
    failure = throttle.Failure(in_a_row, in_window, retry)
    if failure.locks:
        locked = db.session.execute(
            update(Staff)
            .where(Staff.id == staff.id, Staff.status.not_in((LOCKED, DISABLED)))
            .values(status=LOCKED, locked_reason=throttle.LOCKED_LOGIN_FAILURES)
        )
        if locked.rowcount == 1:
            audit.record("staff_locked", commit=False, staff_id=staff.id)
    db.session.expire(staff)
    return failure


def succeeded(staff: Staff) -> None:
    """Both factors passed: failures in a row start again from zero. The caller commits."""
    db.session.execute(
        update(Staff)
        .where(Staff.id == staff.id)
        .values(failed_logins=0, next_login_at=None, last_login_at=throttle.now())
    )
