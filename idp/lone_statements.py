"""Lone statements: one statement outside any transaction, the cheapest way the driver allows
(issue 14).

Userinfo reads one token with its parent and children, and a plain refresh spends a refresh
token and stores the new tokens in one statement (idp.oidc.tokens): on PostgreSQL each runs
on a pooled connection put in autocommit for its time (no BEGIN, no COMMIT or ROLLBACK: one
round trip; a single statement is atomic by itself) and straight through psycopg's cursor,
whose rows are plain tuples. SQLAlchemy's execution path builds a result object and, from the
cursor's description, one column object per column at every call: a third of userinfo's own
CPU (profile of a worker, `make bench`). On SQLite, the development default, ``rows`` reads
through the engine as before, with SQLAlchemy's conversions (SQLite has no booleans).

A dropped connection is what SQLAlchemy makes of it: an OperationalError (a 503, idp.errors),
and the whole pool is let go, so that one request per process sees a database restart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Executable
from sqlalchemy.exc import DBAPIError

from idp.extensions import db

# The SQL text of each statement, compiled once per dialect.
_compiled: dict[tuple[int, str], str] = {}


def on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def rows(statement: Executable, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    """The rows of ``statement`` (a SELECT with named bind parameters only)."""
    engine = db.engine
    if not on_postgresql():
        with engine.connect() as connection:
            return connection.execute(statement, params).all()
    return postgresql_rows(_sql(statement, engine), params)


def postgresql_rows(sql: str, params: Mapping[str, Any]) -> list[tuple]:
    """The rows of one statement written for PostgreSQL (``%(name)s`` parameters)."""
    engine = db.engine
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        connection.autocommit = True
        found = send(connection, sql, params)
        connection.autocommit = False
        return found
    except engine.dialect.loaded_dbapi.Error as error:
        dropped = engine.dialect.is_disconnect(error, pooled.dbapi_connection, None)
        pooled.invalidate(error)  # never back in the pool, still in autocommit
        if dropped:
            engine.dispose()  # the others were opened before the same restart
        raise DBAPIError.instance(
            sql,
            params,
            error,
            engine.dialect.loaded_dbapi.Error,
            connection_invalidated=dropped,
            dialect=engine.dialect,
        ) from None
    finally:
        pooled.close()


def _sql(statement: Executable, engine: Engine) -> str:
    key = (id(statement), engine.dialect.name)
    sql = _compiled.get(key)
    if sql is None:
        sql = _compiled[key] = str(statement.compile(dialect=engine.dialect))
    return sql


def send(connection: Any, sql: str, params: Mapping[str, Any]) -> list[tuple]:
    """One statement on a psycopg connection (tests count the statements sent through it)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description is not None else []
