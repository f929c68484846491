"""record(): one line in the audit trail. Never pass a password, token or secret in details."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from idp import metrics
from idp.extensions import db
from idp.models import Account, AuditEvent, Client


def record(
    event: str,
    account: Account | None = None,
    client: Client | None = None,
    commit: bool = True,
    account_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event; commits unless the caller commits it with its own change."""
    item = AuditEvent(
        event=event,
        account_id=account.id if account is not None else account_id,
        client_id=client.client_id if client is not None else None,
        ip_address=request.remote_addr if has_request_context() else None,
        details=details,
    )
    db.session.add(item)
    metrics.count_audit_event(event)
    if commit:
        db.session.commit()
    return item
