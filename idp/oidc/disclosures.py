"""What each teleservice received about an account (GDPR art. 15): one row per client and
set of scopes, its first and last time. Written at each token issue in one statement, skipped
when this process wrote the same row less than REFRESH_EVERY ago (the token endpoint's query
budget, issue 14: ``last_at`` is only that precise anyway)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from authlib.oauth2.rfc6749 import scope_to_list
from sqlalchemy.dialects import postgresql, sqlite

from idp.extensions import db
from idp.models import Disclosure
from idp.models.base import utcnow

# ``last_at`` moves at most this often: a token every few minutes needs no write each time.
REFRESH_EVERY = timedelta(minutes=10)
# (account, client, scopes) -> when this process last wrote it (monotonic), bounded in size.
_written: dict[tuple[int, str, str], float] = {}
_lock = threading.Lock()
MAX_REMEMBERED = 20_000


def _recently_written(key: tuple[int, str, str]) -> bool:
    now = time.monotonic()
    with _lock:
        written = _written.get(key)
        if written is not None and now - written < REFRESH_EVERY.total_seconds():
            return True
        if len(_written) >= MAX_REMEMBERED:
            _written.clear()
        _written[key] = now
    return False


def record(account_id: int, client_id: str, scope: str) -> None:
    """Insert the (account, client, scopes) row, or move its ``last_at``; the caller commits."""
    scopes = " ".join(sorted(set(scope_to_list(scope) or [])))
    if _recently_written((account_id, client_id, scopes)):
        return
    now = utcnow()
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Disclosure).values(
        account_id=account_id, client_id=client_id, scope=scopes, first_at=now, last_at=now
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id", "client_id", "scope"],
            set_={"last_at": now},
            where=Disclosure.last_at < now - REFRESH_EVERY,
        )
    )


def of_account(account_id: int) -> list[Disclosure]:
    """The account's disclosures, most recent first."""
    return db.session.scalars(
        db.select(Disclosure)
        .filter_by(account_id=account_id)
        .order_by(Disclosure.last_at.desc(), Disclosure.client_id)
    ).all()
