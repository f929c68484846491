"""Queueing and delivering outbox rows: claims, leases, retries (see idp.outbox)."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import OperationalError

from idp import metrics
from idp.extensions import db
from idp.models.base import random_id, utcnow
from idp.models.outbox import DROPPED, FAILED, PENDING, SENT, OutboxItem

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]

MAX_ATTEMPTS = 12  # about 5 hours of retries with the default backoff
BACKOFF_BASE = 5.0  # seconds before the second attempt; app.config["OUTBOX_BACKOFF"] overrides
BACKOFF_CAP = 3600.0
LEASE = timedelta(minutes=5)  # longer than any handler may take (SMTP: 10 s per exchange)
POLL_INTERVAL = 5.0  # a sender looks for due rows at least this often (retries, other processes)

_handlers: dict[str, Handler] = {}
BUSY = -1  # a claim that found the SQLite database locked by another sender
WAKE = "idp_outbox_wake"  # set in a session's info when it queued something


class GiveUp(Exception):
    """Raised by a handler when trying again can't help (an address refused for good)."""


class Drop(Exception):
    """Raised by a handler when the delivery is no longer wanted (a mail whose link was replaced
    or used meanwhile): the row is ``dropped``, which is not a failure."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Decorator: ``fn(payload)`` delivers the rows of ``kind``; it raises to be retried."""

    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


def enqueue(kind: str, payload: dict[str, Any], *, account_id: int | None = None) -> OutboxItem:
    """Queue a delivery in the current transaction (the caller commits); senders wake on commit."""
    item = OutboxItem(
        kind=kind,
        payload=payload,
        account_id=account_id,
        state=PENDING,
        attempts=0,
        created_at=utcnow(),
        due_at=utcnow(),
    )
    db.session.add(item)
    db.session.info[WAKE] = True
    _count(kind, "queued")
    return item


def _count(kind: str, outcome: str) -> None:
    """The operators' counters (/metrics): mails by state, logout tokens by result."""
    if kind == "mail":
        metrics.MAILS.labels(state=outcome).inc()
    elif kind == "backchannel_logout" and outcome != "queued":
        metrics.BACKCHANNEL.labels(result=outcome).inc()


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    base = float(current_app.config.get("OUTBOX_BACKOFF", BACKOFF_BASE))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP))


def _max_attempts() -> int:
    return int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", MAX_ATTEMPTS))


def deliver_due(limit: int = 50, *, now: datetime | None = None) -> int:
    """Claim up to ``limit`` due rows and deliver them; returns how many were sent."""
    return _deliver_batch(limit, now)[1]


def drain(limit: int = 50, stop: threading.Event | None = None) -> int:
    """Deliver batches until nothing is due (or ``stop`` is set); returns how many were sent."""
    total = busy = 0
    while stop is None or not stop.is_set():
        claimed, sent = _deliver_batch(limit, None, stop)
        total += sent
        if claimed == BUSY and busy < 10:  # SQLite: another sender is writing
            busy += 1
            time.sleep(0.1 * busy)
            continue
        if claimed < limit:
            break
    return total


def _deliver_batch(
    limit: int, now: datetime | None, stop: threading.Event | None = None
) -> tuple[int, int]:
    """One claim and its deliveries, in a database session of their own: the caller's open
    transaction is neither seen nor committed."""
    with current_app.app_context():
        try:
            return _claim_and_deliver(limit, now or utcnow(), stop)
        finally:
            db.session.remove()


def _claim_and_deliver(limit: int, now: datetime, stop: threading.Event | None) -> tuple[int, int]:
    claim, rows = _claim(limit, now)
    if rows is None:
        return BUSY, 0
    sent = 0
    for index, (item_id, kind, payload, attempts) in enumerate(rows):
        if stop is not None and stop.is_set():
            _release([row[0] for row in rows[index:]], claim)
            break
        sent += _deliver_one(item_id, kind, payload, attempts, claim, now)
    return len(rows), sent


def _claim(limit: int, now: datetime) -> tuple[str, list[tuple] | None]:
    """Take a lease on up to ``limit`` due rows of the kinds this process can deliver."""
    claim = random_id()
    if not _handlers:
        return claim, []
    claimable = or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now)
    candidates = (
        select(OutboxItem.id)
        .where(
            OutboxItem.state == PENDING,
            OutboxItem.due_at <= now,
            OutboxItem.kind.in_(list(_handlers)),
            claimable,
        )
        .order_by(OutboxItem.due_at, OutboxItem.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    try:
        ids = list(db.session.scalars(candidates))
        if ids:
            db.session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(ids), OutboxItem.state == PENDING, claimable)
                .values(
                    claimed_by=claim,
                    claimed_until=now + LEASE,
                    attempts=OutboxItem.attempts + 1,
                )
            )
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        if db.engine.dialect.name != "sqlite":
            raise
        return claim, None  # "database is locked": another sender is claiming
    if not ids:
        return claim, []
    rows = db.session.execute(
        select(OutboxItem.id, OutboxItem.kind, OutboxItem.payload, OutboxItem.attempts)
        .where(OutboxItem.claimed_by == claim)
        .order_by(OutboxItem.due_at, OutboxItem.id)
    ).all()
    db.session.commit()
    return claim, [tuple(row) for row in rows]


def _deliver_one(
    item_id: int, kind: str, payload: dict, attempts: int, claim: str, now: datetime
) -> int:
    """One attempt; 1 if the row is now sent."""
    try:
        _handlers[kind](copy.deepcopy(payload))
    except Exception as error:
        db.session.rollback()
        _record_failure(item_id, kind, attempts, claim, error, now)
        return 0
    done = db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.claimed_by == claim)
        .values(
            state=SENT,
            sent_at=utcnow(),
            payload={},
            claimed_by=None,
            claimed_until=None,
            last_error=None,
        )
    )
    db.session.commit()
    _count(kind, "sent")
    if done.rowcount != 1:  # the lease ran out during the delivery: it may go twice
        log.warning("outbox %s #%d delivered after its lease ran out", kind, item_id)
    return 1


def _error_name(error: BaseException) -> str:
    name = error.__class__.__name__
    reason = getattr(error, "reason", None)
    if isinstance(reason, str) and reason.isidentifier():
        name = f"{name}: {reason}"
    return name[:120]


def _record_failure(
    item_id: int, kind: str, attempts: int, claim: str, error: Exception, now: datetime
) -> None:
    reason = _error_name(error)
    final = isinstance(error, GiveUp | Drop) or attempts >= _max_attempts()
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "last_error": reason}
    if final:
        values.update(state=DROPPED if isinstance(error, Drop) else FAILED, payload={})
    else:
        values.update(due_at=now + backoff(attempts))
    db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.claimed_by == claim)
        .values(**values)
    )
    db.session.commit()
    if final and not isinstance(error, Drop):
        _count(kind, "failed")
    outcome = "given up" if final else f"next attempt in {backoff(attempts)}"
    if isinstance(error, Drop):
        outcome = "dropped"
    log.warning(
        "outbox %s #%d attempt %d failed (%s); %s", kind, item_id, attempts, reason, outcome
    )


def _release(ids: list[int], claim: str) -> None:
    """Give back rows claimed but not attempted (a sender stopping): they are due at once."""
    db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(ids), OutboxItem.claimed_by == claim)
        .values(claimed_by=None, claimed_until=None, attempts=OutboxItem.attempts - 1)
    )
    db.session.commit()


def counts() -> dict[str, int]:
    """Rows per state (for operators and metrics)."""
    rows = db.session.execute(
        select(OutboxItem.state, func.count()).group_by(OutboxItem.state)
    ).all()
    return {PENDING: 0, SENT: 0, FAILED: 0, DROPPED: 0, **{state: n for state, n in rows}}


def purge(before: datetime) -> int:
    """Delete the sent, failed and dropped rows queued before ``before`` (the caller commits);
    ``idp purge`` runs it (idp.retention)."""
    result = db.session.execute(
        delete(OutboxItem).where(
            OutboxItem.state.in_([SENT, FAILED, DROPPED]), OutboxItem.created_at < before
        )
    )
    return result.rowcount
