"""What a staff member does for a family: the help-desk reset (a new letter), unlock, resending
the activation mail, resolving a "not the legal guardian" report. Account changes go through
idp.accounts.lifecycle (its events audit them after the commit); each action also records a
`console_…` audit event with the staff member's identity, in the same transaction. Views have
checked the scope (idp.console.scope) before calling these."""

from __future__ import annotations

from sqlalchemy import delete

from idp import audit
from idp.accounts import events, lifecycle
from idp.console.downloads import store
from idp.console.staff import by
from idp.extensions import db
from idp.flows.activation import service as activation
from idp.models import Account, Child, Link, Staff
from idp.models.accounts import LOCKED, LOCKED_NOT_GUARDIAN, PENDING_EMAIL
from idp.provisioning import helpdesk
from idp.provisioning.letters import Letter, render

CONFIRMED = "confirmed"  # the parent is not the guardian: the link goes
RESTORED = "restored"  # the report was a mistake: the link stays
NOT_GUARDIAN_CONFIRMED = "not_guardian_confirmed"  # why an account with no child left is disabled


def reset(staff: Staff, account: Account) -> str:
    """The help-desk reset; returns the id of the new letter's download. Commits once."""
    made: list[str] = []

    def deliver(letter: Letter) -> None:
        pdf = render([letter])
        made.append(store(staff, f"courrier-{account.identifier}.pdf", "application/pdf", pdf).id)
        audit.record("console_account_reset", account, commit=False, **by(staff))

    helpdesk.reset_account(account, deliver)
    return made[0]


def unlock(staff: Staff, account: Account) -> bool:
    """Back to where the lock found the account (lifecycle.unlock); True if this call did."""
    reason = account.locked_reason
    if not lifecycle.unlock(account):
        events.rollback()
        return False
    audit.record(
        "console_account_unlocked",
        account,
        commit=False,
        reason=reason,
        status=account.status,
        **by(staff),
    )
    events.commit()
    return True


def resend_activation(staff: Staff, account: Account) -> bool | None:
    """A new confirmation link to the address the parent gave; None when not pending."""
    if account.status != PENDING_EMAIL:
        return None
    audit.record("console_activation_resent", account, commit=False, **by(staff))
    return activation.resend(account).mail_sent


def resolve_report(staff: Staff, account: Account, child: Child | None, decision: str) -> bool:
    """Confirmed: the child is unlinked, and the account goes back to its activation (or is
    disabled when no child is left). Restored: back to the activation, the link kept."""
    if account.status != LOCKED or account.locked_reason != LOCKED_NOT_GUARDIAN:
        return False
    changed: object = None
    if decision == CONFIRMED and child is not None:
        others = [link for link in account.links if link.child_id != child.id]
        db.session.execute(
            delete(Link).where(Link.account_id == account.id, Link.child_id == child.id)
        )
        if not others:
            changed = lifecycle.disable(account, NOT_GUARDIAN_CONFIRMED)
    if changed is None:
        changed = lifecycle.unlock(account)
    if not changed:
        events.rollback()
        return False
    audit.record(
        "console_report_resolved",
        account,
        commit=False,
        decision=decision,
        child_ref=child.ref if child else None,
        status=account.status,
        **by(staff),
    )
    events.commit()
    db.session.expire(account)
    return True
