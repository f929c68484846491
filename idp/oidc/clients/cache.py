"""Registered clients, cached per process: the hot endpoints look a client up without SQL.

Every authorization, token and userinfo request needs its client; clients change a few times a
year. A cached client is a detached copy, read by every thread of the process, never written to.
A change made by this process (registration, metadata update, secret rotation, removal) is
forgotten at its commit; one made by another process is seen when the entry ages out, after at
most ``TTL_SECONDS``. An unknown client_id is not cached: a new client works at once everywhere.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

from idp.extensions import db
from idp.models import Client

TTL_SECONDS = 5.0
_entries: dict[str, tuple[float, Client]] = {}
_lock = threading.Lock()


def _detached_copy(client: Client) -> Client:
    copy = Client()
    for attribute in inspect(Client).column_attrs:
        setattr(copy, attribute.key, getattr(client, attribute.key))
    make_transient_to_detached(copy)
    return copy


def get(client_id: str) -> Client | None:
    """The client with this client_id, from the cache while it is fresh enough."""
    entry = _entries.get(client_id)
    now = time.monotonic()
    if entry is not None and now - entry[0] < TTL_SECONDS:
        return entry[1]
    client = db.session.scalar(select(Client).filter_by(client_id=client_id))
    with _lock:
        if client is None:
            _entries.pop(client_id, None)
            return None
        copy = _detached_copy(client)
        _entries[client_id] = (now, copy)
    return copy


def forget(client_id: str | None = None) -> None:
    """Drop one client (or all of them) from this process's cache."""
    with _lock:
        if client_id is None:
            _entries.clear()
        else:
            _entries.pop(client_id, None)


def _changed_clients(session: Session) -> set[str]:
    return session.info.setdefault("idp_changed_clients", set())


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Client) and instance.client_id:
            _changed_clients(session).add(instance.client_id)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    """An UPDATE or DELETE statement on the client table: forget every client at commit."""
    if (state.is_update or state.is_delete) and state.bind_mapper is inspect(Client):
        _changed_clients(state.session).add("*")


@event.listens_for(Session, "after_commit")
def _forget_changed(session: Session) -> None:
    changed = session.info.pop("idp_changed_clients", set())
    for client_id in changed:
        forget(None if client_id == "*" else client_id)


@event.listens_for(Session, "after_soft_rollback")
def _drop_notes(session: Session, previous_transaction) -> None:
    session.info.pop("idp_changed_clients", None)
