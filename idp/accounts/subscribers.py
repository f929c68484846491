"""What follows an account change once it is committed: the audit trail and the notices.

Each subscriber runs after the commit (``idp.accounts.events``); one that fails is logged and
leaves the change applied. Addresses are masked in the audit trail. The notices are queued in
the outbox inside the change's transaction (``in_transaction``), so that none is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idp import audit, mails
from idp.accounts.events import Event, subscribe
from idp.extensions import db
from idp.mail import mask
from idp.models import Account


def _masked(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: mask(data[name]) if data.get(name) else None for name in names}


def _pick(*names: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: {name: data.get(name) for name in names}


# Lifecycle event → (audit event, its details from the event's data).
AUDITED: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "account.activated": ("activation_submitted", lambda d: _masked(d, "email")),
    "account.pending_email_changed": ("activation_email_changed", lambda d: _masked(d, "email")),
    "account.confirmed": ("activation_confirmed", lambda d: _masked(d, "email")),
    "account.birthdate_wrong": ("activation_birthdate_wrong", lambda d: {}),
    "account.not_guardian_reported": ("activation_not_guardian_reported", _pick("child_ref")),
    "account.locked": ("account_locked", _pick("reason")),
    "account.unlocked": ("account_unlocked", _pick("reason", "status")),
    "account.disabled": ("account_disabled", _pick("reason", "sessions_ended", "tokens_revoked")),
    "account.inactivity_warned": ("account_inactivity_warned", lambda d: {}),
    "account.password_changed": ("password_changed", _pick("sessions_ended")),
    "account.password_reset": ("password_reset", lambda d: {}),
    "account.reset": (
        "account_reset",
        _pick(
            "previous_status",
            "locked_reason",
            "sessions_ended",
            "links_cancelled",
            "tokens_revoked",
        ),
    ),
    "account.email_changed": (
        "email_changed",
        lambda d: {"old_email": _masked(d, "old_email")["old_email"], **_masked(d, "email")},
    ),
}


def _audit(event: Event) -> None:
    name, details = AUDITED[event.name]
    audit.record(name, account_id=event.account_id, **details(event.data))


for _name in AUDITED:
    subscribe(_name)(_audit)


@subscribe("session.ended")
def audit_sessions_ended(event: Event) -> None:
    """The parent's own doing ("Fermer cette session", "Se déconnecter partout"); other
    reasons are in the audit event of the change that ended them."""
    reason = event.data["reason"]
    if reason == "session_ended":
        audit.record("session_ended", account_id=event.account_id)
    elif reason == "signed_out_everywhere":
        count = len(event.data["sessions"])
        audit.record("signed_out_everywhere", account_id=event.account_id, sessions=count)


@subscribe("account.password_changed", in_transaction=True)
def notify_password_changed(event: Event) -> None:
    """The notice is queued in the outbox with the change itself: it can't be lost."""
    account = db.session.get(Account, event.account_id)
    if account is not None and account.email:
        mails.password_changed_notice(account)


@subscribe("account.password_reset", in_transaction=True)
def notify_password_reset(event: Event) -> None:
    """After a reset by the mailed link; its receipt (``password_changed_notice``) is written
    to the audit trail once the SMTP server has taken it."""
    account = db.session.get(Account, event.account_id)
    if account is not None and account.email:
        mails.password_reset_notice(account)
