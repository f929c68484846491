"""Bringing an installation up to what this code needs: the database schema (Alembic) and the
signing keys. `idp init`, `idp demo` and the tests call both, in that order; each is idempotent.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.runtime.migration import MigrationContext
from flask import Flask, current_app
from flask_migrate import Migrate

from idp.extensions import db

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade_schema() -> str:
    """Bring the database to the newest migration (idempotent); returns the revision."""
    migrate: Migrate = current_app.extensions["migrate"].migrate
    config = migrate.get_config(str(MIGRATIONS))
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command.upgrade(config, "head")
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or "base"


def ensure_signing_keys(app: Flask) -> bool:
    """Create a signing key of each algorithm when the folder has none; True if created."""
    store = app.extensions["idp_keys"]
    if store.has_keys():
        return False
    store.add_keys()
    return True
