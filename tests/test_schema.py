"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from idp import bootstrap
from idp.extensions import db


def head() -> str:
    """The newest migration: one head, so that every branch of work was chained on merge."""
    (only,) = ScriptDirectory(str(bootstrap.MIGRATIONS)).get_heads()
    return only


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == head()
        assert compare_metadata(context, db.metadata) == []


def test_init_is_idempotent(app):
    assert bootstrap.upgrade_schema() == bootstrap.upgrade_schema() == head()
