"""What a staff member does for a family, each audited with their identity: the help-desk
reset (a new letter), unlock, resending the activation mail, resolving a "not the legal
guardian" report. Views have checked the scope (idp.console.scope) before calling these."""

from __future__ import annotations

from sqlalchemy import delete, update

from idp import audit
from idp.console.downloads import store
from idp.console.staff import by
from idp.extensions import db
from idp.flows.activation import service as activation
from idp.models import Account, Child, Link, Staff
from idp.models.accounts import (
    ACTIVE,
    DISABLED,
    LOCKED,
    LOCKED_BIRTHDATE,
    LOCKED_NOT_GUARDIAN,
    PENDING_EMAIL,
    PROVISIONAL,
)
from idp.provisioning import helpdesk
from idp.provisioning.letters import Letter, render

CONFIRMED = "confirmed"  # the parent is not the guardian: the link goes
RESTORED = "restored"  # the report was a mistake: the link stays


def reset(staff: Staff, account: Account) -> str:
    """The help-desk reset; returns the id of the new letter's download. Commits once."""

    def deliver(letter: Letter) -> None:
        download = store(
            staff, f"courrier-{account.identifier}.pdf", "application/pdf", render([letter])
        )
        audit.record("console_account_reset", account, commit=False, **by(staff))
        deliver.download_id = download.id  # type: ignore[attr-defined]

    helpdesk.reset_account(account, deliver)
    return deliver.download_id  # type: ignore[attr-defined]


def unlock(staff: Staff, account: Account) -> bool:
    """Back to where the lock found the account, failures cleared; True if this call did."""
    if account.locked_reason in (LOCKED_BIRTHDATE, LOCKED_NOT_GUARDIAN):
        status = PROVISIONAL
    elif account.email_verified:
        status = ACTIVE
    else:
        status = PENDING_EMAIL if account.email else PROVISIONAL
    reason = account.locked_reason
    moved = db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.status == LOCKED)
        .values(
            status=status,
            locked_reason=None,
            activation_failures=0,
            failed_logins=0,
            next_login_at=None,
            failures_in_window=0,
            failure_window_start=None,
        )
    )
    if moved.rowcount != 1:
        db.session.rollback()
        return False
    audit.record(
        "console_account_unlocked", account, commit=False, reason=reason, status=status, **by(staff)
    )
    db.session.commit()
    db.session.refresh(account)
    return True


def resend_activation(staff: Staff, account: Account) -> bool | None:
    """A new confirmation link to the address the parent gave; None when not pending."""
    if account.status != PENDING_EMAIL:
        return None
    audit.record("console_activation_resent", account, commit=False, **by(staff))
    result = activation.resend(account)
    return result.mail_sent


def resolve_report(staff: Staff, account: Account, child: Child | None, decision: str) -> bool:
    """Confirmed: the child is unlinked (with no child left, the account is disabled), else
    the account goes back to its activation. Restored: back to the activation, link kept."""
    if account.status != LOCKED or account.locked_reason != LOCKED_NOT_GUARDIAN:
        return False
    status = PROVISIONAL
    if decision == CONFIRMED and child is not None:
        others = [link for link in account.links if link.child_id != child.id]
        db.session.execute(
            delete(Link).where(Link.account_id == account.id, Link.child_id == child.id)
        )
        if not others:
            status = DISABLED
    moved = db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.status == LOCKED)
        .values(status=status, locked_reason=None, activation_failures=0)
    )
    if moved.rowcount != 1:
        db.session.rollback()
        return False
    audit.record(
        "console_report_resolved",
        account,
        commit=False,
        decision=decision,
        child_ref=child.ref if child else None,
        status=status,
        **by(staff),
    )
    db.session.commit()
    db.session.expire(account)
    return True
