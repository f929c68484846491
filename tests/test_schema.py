"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from idp import schema
from idp.extensions import db


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == "0004"
        assert compare_metadata(context, db.metadata) == []


def test_init_is_idempotent(app):
    assert schema.upgrade() == schema.upgrade() == "0004"
