"""Events after commit: a change records what happened; subscribers run once it is committed.

A lifecycle function calls ``emit("session.ended", account_id, sessions=[…])`` inside its
transaction. The event waits in the database session until the transaction commits (and is
dropped if it rolls back); ``commit()`` commits, then runs each subscriber of each event, in
order. A subscriber never runs inside the transaction that made the change and can't undo it:
one that raises is logged, its own half-done work rolled back, and the next one runs.

Subscribers are blinker signals, one per event name (``subscribe("session.ended")``). Work that
must not be lost (a mail, a logout token) is not done after the commit but written to the outbox
in the same transaction: ``subscribe(name, in_transaction=True)`` runs the function at ``emit``
time, inside the transaction, where it may only add rows to ``db.session`` (it never commits).

The events and their data:
- ``session.ended``: ``sessions`` = ``[{"id": login session id, "clients": [client_id, …]}]``
  (the clients that received tokens in it), ``reason`` (``logout``, ``session_ended``,
  ``signed_out_everywhere``, ``password_changed``, ``password_reset``, ``helpdesk_reset``,
  ``locked``, ``disabled``).
- ``tokens.revoked``: ``count``, ``reason``; ``links.cancelled``: ``count``, ``reason``.
- ``account.activated``, ``account.confirmed``, ``account.password_changed``,
  ``account.password_reset``, ``account.reset``, ``account.locked`` (``reason``),
  ``account.email_changed``, ``account.disabled`` (``reason``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace
from flask import Flask
from sqlalchemy import event as sqla_event
from sqlalchemy.orm import Session

from idp.extensions import db

log = logging.getLogger(__name__)
_signals = Namespace()
_in_transaction = Namespace()
# Sent just before each conditional update of an account or a mailed link, with the change's
# name ("activate", "link.use", …) and the account id: a seam for tracing, and for tests that
# hold two requests there so that they truly race on the UPDATE.
before_update = Namespace().signal("before-conditional-update")
_PENDING = "idp_events_pending"  # emitted in the open transaction
_COMMITTED = "idp_events_committed"  # committed, subscribers not run yet

Subscriber = Callable[["Event"], Any]


@dataclass(frozen=True)
class Event:
    """What happened to an account (``account_id``), with what subscribers need to know."""

    name: str
    account_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def emit(name: str, account_id: int | None = None, **data: Any) -> Event:
    """Record an event in the current transaction; subscribers run after it commits."""
    item = Event(name, account_id, data)
    session = db.session()
    if not session.in_transaction():  # so that a rollback before any statement drops it too
        session.begin()
    session.info.setdefault(_PENDING, []).append(item)
    _in_transaction.signal(name).send(item)
    return item


def subscribe(name: str, in_transaction: bool = False) -> Callable[[Subscriber], Subscriber]:
    """Decorator: run the function with each committed event called ``name`` (or, with
    ``in_transaction``, as it is emitted: to write outbox rows in the same transaction)."""

    def connect(fn: Subscriber) -> Subscriber:
        signals = _in_transaction if in_transaction else _signals
        signals.signal(name).connect(fn, weak=False)
        return fn

    return connect


def unsubscribe(name: str, fn: Subscriber) -> None:
    """Disconnect ``fn`` from ``name`` (both kinds of subscribers)."""
    _signals.signal(name).disconnect(fn)
    _in_transaction.signal(name).disconnect(fn)


def commit() -> None:
    """Commit the current transaction, then run the subscribers of the events it carried."""
    db.session.commit()
    dispatch()


def rollback() -> None:
    """Roll the current transaction back: its events are dropped with it."""
    db.session.rollback()


def dispatch() -> None:
    """Run the subscribers of committed events (each failure logged, never raised)."""
    info = db.session().info
    while info.get(_COMMITTED):
        item = info[_COMMITTED].pop(0)
        for receiver in _signals.signal(item.name).receivers.values():
            try:
                receiver(item)
            except Exception:
                name = getattr(receiver, "__qualname__", repr(receiver))
                log.exception("subscriber %s of %s failed", name, item.name)
                db.session.rollback()


def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


def _rolled_back(session: Session, previous_transaction: Any) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback keeps the outer events
        session.info.pop(_PENDING, None)


sqla_event.listen(Session, "after_commit", _committed)
sqla_event.listen(Session, "after_soft_rollback", _rolled_back)


def init_app(app: Flask) -> None:
    """Connect the subscribers; events committed by a view that called
    ``db.session.commit()`` itself still run, after the request."""
    from idp.accounts import subscribers  # noqa: F401 (connects them)

    @app.after_request
    def _dispatch_after_request(response):
        dispatch()
        return response
