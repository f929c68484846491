"""Counting the SQL statements requests send: SQLAlchemy's `before_cursor_execute` event, and
the lone statements sent through psycopg's cursor (idp.lone_statements.send)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from idp import lone_statements
from idp.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements this thread sends to the database inside the block (the test
    client's requests run in it; the outbox sender's polls, in its own thread, don't count)."""
    sent: list[str] = []
    thread = threading.get_ident()

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.get_ident() == thread:
            sent.append(statement)

    send = lone_statements.send

    def counted_send(connection, sql, params):
        count(None, None, sql, params, None, False)
        return send(connection, sql, params)

    event.listen(db.engine, "before_cursor_execute", count)
    lone_statements.send = counted_send
    try:
        yield sent
    finally:
        lone_statements.send = send
        event.remove(db.engine, "before_cursor_execute", count)
