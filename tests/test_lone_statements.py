"""Lone statements (idp.lone_statements): the same rows as SQLAlchemy's, the pool left as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DataError

from idp import lone_statements
from idp.extensions import db
from idp.models import Account
from tests.conftest import TEST_DATABASE_URL

_ACCOUNTS = Account.__table__
BY_IDENTIFIER = select(
    _ACCOUNTS.c.identifier, _ACCOUNTS.c.email_verified, _ACCOUNTS.c.status
).where(_ACCOUNTS.c.identifier == bindparam("identifier"))
NOT_A_NUMBER = select(_ACCOUNTS.c.identifier).where(
    _ACCOUNTS.c.identifier == bindparam("identifier"), _ACCOUNTS.c.id > bindparam("id")
)


def test_the_rows_are_the_ones_sqlalchemy_reads(app, factory):
    account, _password = factory.account()
    db.session.commit()
    read = lone_statements.rows(BY_IDENTIFIER, {"identifier": account.identifier})
    with db.engine.connect() as connection:
        expected = connection.execute(BY_IDENTIFIER, {"identifier": account.identifier}).all()
    assert [tuple(row) for row in read] == [tuple(row) for row in expected]
    assert read[0][1] is True or read[0][1] is False  # a boolean, not SQLite's 0 or 1
    assert lone_statements.rows(BY_IDENTIFIER, {"identifier": "nobody"}) == []


def idle_connections_in_autocommit() -> list[bool]:
    """Whether each idle connection of the pool is in autocommit (all checked out, then back)."""
    pooled = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]
    try:
        return [connection.driver_connection.autocommit for connection in pooled]
    finally:
        for connection in pooled:
            connection.close()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="the psycopg path is PostgreSQL's")
def test_the_connection_goes_back_to_the_pool_out_of_autocommit(app, factory):
    account, _password = factory.account()
    db.session.commit()
    assert lone_statements.rows(BY_IDENTIFIER, {"identifier": account.identifier})
    assert idle_connections_in_autocommit() and not any(idle_connections_in_autocommit())


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="the psycopg path is PostgreSQL's")
def test_a_failed_read_is_sqlalchemy_s_error_and_leaves_no_autocommit_connection(app):
    with pytest.raises(DataError):  # text where PostgreSQL expects an integer
        lone_statements.rows(NOT_A_NUMBER, {"identifier": "x", "id": "not a number"})
    assert not any(idle_connections_in_autocommit())
    with db.engine.connect() as connection:
        assert connection.execute(select(1)).scalar() == 1
