"""Lone reads (idp.lone_reads): the same rows as SQLAlchemy's, and the pool left as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DataError

from idp import lone_reads
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
    read = lone_reads.rows(BY_IDENTIFIER, {"identifier": account.identifier})
    with db.engine.connect() as connection:
        expected = connection.execute(BY_IDENTIFIER, {"identifier": account.identifier}).all()
    assert [tuple(row) for row in read] == [tuple(row) for row in expected]
    assert read[0][1] is True or read[0][1] is False  # a boolean, not SQLite's 0 or 1
    assert lone_reads.rows(BY_IDENTIFIER, {"identifier": "nobody"}) == []


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="the psycopg path is PostgreSQL's")
def test_the_connection_goes_back_to_the_pool_out_of_autocommit(app, factory):
    account, _password = factory.account()
    db.session.commit()
    db.engine.dispose()  # one connection in the pool: the read's is the next one taken
    assert lone_reads.rows(BY_IDENTIFIER, {"identifier": account.identifier})
    pooled = db.engine.raw_connection()
    try:
        assert pooled.driver_connection.autocommit is False
    finally:
        pooled.close()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="the psycopg path is PostgreSQL's")
def test_a_failed_read_is_sqlalchemy_s_error_and_leaves_no_autocommit_connection(app):
    db.engine.dispose()
    with pytest.raises(DataError):  # text where PostgreSQL expects an integer
        lone_reads.rows(NOT_A_NUMBER, {"identifier": "x", "id": "not a number"})
    with db.engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit is False
        assert connection.execute(select(1)).scalar() == 1
