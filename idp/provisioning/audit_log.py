"""Reading the audit trail (`idp audit`): who did what, when, from where.

The events are written by ``idp.audit.record``; their details never hold a password, link token,
code or secret (``tests/test_audit_secrets.py`` checks every event a representative run writes).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, AuditEvent
from idp.provisioning.accounts import ProvisioningError, find_account, parse_date

DEFAULT_LIMIT = 100


def parse_since(value: str) -> datetime:
    """`YYYY-MM-DD`, `JJ/MM/AAAA` (midnight UTC) or an ISO 8601 datetime (UTC if no offset)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            moment = datetime.combine(parse_date(value), time())
        except ProvisioningError:
            raise ProvisioningError(
                f"bad date {value!r}: YYYY-MM-DD, JJ/MM/AAAA or an ISO datetime expected"
            ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def list_events(
    identifier: str | None = None,
    client_id: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[tuple[AuditEvent, str | None]]:
    """The latest ``limit`` events that match, oldest first, each with its account identifier.

    An unknown identifier is an error (a typo must not look like a quiet account); an unknown
    client is not, since the events of a removed client outlive it.
    """
    query = select(AuditEvent, Account.identifier).outerjoin(
        Account, Account.id == AuditEvent.account_id
    )
    if identifier is not None:
        query = query.where(AuditEvent.account_id == find_account(identifier).id)
    if client_id is not None:
        query = query.where(AuditEvent.client_id == client_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    newest = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    return [(event, account) for event, account in reversed(db.session.execute(newest).all())]


def describe_event(event: AuditEvent, identifier: str | None) -> dict[str, Any]:
    """One event as `idp audit --json` shows it."""
    return {
        "at": event.at.astimezone(UTC).isoformat(timespec="seconds"),
        "event": event.event,
        "identifier": identifier,
        "client_id": event.client_id,
        "ip_address": event.ip_address,
        "details": event.details or {},
    }
