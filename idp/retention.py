"""Nothing kept longer than needed (GDPR art. 5(1)(e)): ``purge()``, run by ``idp purge``.

Each rule deletes (or disables) one kind of row past its time and returns how many; the
counts go to the command's JSON and to one audit event, never a name. Rules:

- codes, tokens, sign-in sessions, pending authorization requests, mailed links, registration
  tokens and finished outbox rows (sent, failed, dropped): once expired (or ended) for
  ``IDP_PURGE_GRACE``; a refresh token stays until its own expiry, so that the reuse of a
  rotated one is still caught;
- audit events: after ``IDP_AUDIT_RETENTION`` (1 year);
- an account never activated whose letter expired ``IDP_NEVER_ACTIVATED_RETENTION`` ago (1 year)
  and whose children no longer appear in any import (the import unlinks them): deleted with
  what hangs on it; children linked to nobody any more: deleted;
- an active account unused for ``IDP_INACTIVITY_WARNING`` (3 years) is warned by mail, then
  disabled ``IDP_INACTIVITY_GRACE`` (30 days) later if still unused.

Other modules add their own rules with ``@rule("name")``. Safe to run while serving: every
rule is one statement on rows nobody uses any more, or a lifecycle change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import and_, delete, exists, func, or_, select, update

from idp import audit, mails, outbox
from idp.accounts import events, lifecycle
from idp.extensions import db
from idp.models import (
    Account,
    AuditEvent,
    AuthorizationCode,
    Child,
    Disclosure,
    Flow,
    InitialAccessToken,
    Interaction,
    Link,
    LoginSession,
    StaffDownload,
    StaffSession,
    Token,
)
from idp.models.accounts import ACTIVE, LOCKED, LOCKED_BIRTHDATE, LOCKED_NOT_GUARDIAN, PROVISIONAL
from idp.models.base import utcnow

INACTIVE_REASON = "inactive"


@dataclass(frozen=True)
class Clock:
    """The moments the rules compare with, from one ``now``."""

    now: datetime
    config: Any

    def ago(self, setting: str) -> datetime:
        return self.now - timedelta(seconds=self.config[setting])

    @property
    def cutoff(self) -> datetime:
        return self.ago("PURGE_GRACE")

    @property
    def cutoff_epoch(self) -> int:
        return int(self.cutoff.timestamp())


Rule = Callable[[Clock], int]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[name] = fn
        return fn

    return register


def _delete(model: type, *conditions: Any) -> int:
    return db.session.execute(
        delete(model).where(*conditions), execution_options={"synchronize_session": False}
    ).rowcount


@rule("codes")
def expired_codes(clock: Clock) -> int:
    return _delete(AuthorizationCode, AuthorizationCode.expires_at < clock.cutoff_epoch)


@rule("tokens")
def expired_tokens(clock: Clock) -> int:
    cutoff = clock.cutoff_epoch
    return _delete(
        Token,
        Token.issued_at + Token.expires_in < cutoff,
        or_(Token.refresh_token.is_(None), Token.refresh_expires_at < cutoff),
    )


@rule("sessions")
def ended_sessions(clock: Clock) -> int:
    grace = timedelta(seconds=clock.config["PURGE_GRACE"])
    return _delete(
        LoginSession,
        or_(
            LoginSession.ended_at < clock.cutoff,
            LoginSession.last_seen_at < clock.ago("SESSION_IDLE_TTL") - grace,
            LoginSession.auth_time < clock.ago("SESSION_MAX_TTL") - grace,
        ),
    )


@rule("pending_requests")
def expired_interactions(clock: Clock) -> int:
    return _delete(Interaction, Interaction.expires_at < clock.cutoff)


@rule("mailed_links")
def expired_links(clock: Clock) -> int:
    return _delete(Flow, Flow.expires_at < clock.cutoff)


@rule("outbox")
def delivered_outbox_rows(clock: Clock) -> int:
    """Mails and logout tokens sent, given up or dropped (their payload is already gone)."""
    return outbox.purge(before=clock.cutoff)


@rule("registration_tokens")
def expired_registration_tokens(clock: Clock) -> int:
    return _delete(InitialAccessToken, InitialAccessToken.expires_at < clock.cutoff_epoch)


@rule("staff_sessions")
def ended_staff_sessions(clock: Clock) -> int:
    """The school console's sessions, ended or past their lifetimes (idp.console.sessions)."""
    grace = timedelta(seconds=clock.config["PURGE_GRACE"])
    return _delete(
        StaffSession,
        or_(
            StaffSession.ended_at < clock.cutoff,
            StaffSession.last_seen_at < clock.ago("STAFF_SESSION_IDLE_TTL") - grace,
            StaffSession.started_at < clock.ago("STAFF_SESSION_MAX_TTL") - grace,
        ),
    )


@rule("staff_downloads")
def expired_staff_downloads(clock: Clock) -> int:
    """Letters and credentials made in the console: gone at their expiry, no grace."""
    return _delete(StaffDownload, StaffDownload.expires_at < clock.now)


@rule("audit_events")
def old_audit_events(clock: Clock) -> int:
    return _delete(AuditEvent, AuditEvent.at < clock.ago("AUDIT_RETENTION"))


@rule("accounts_never_activated")
def never_activated_accounts(clock: Clock) -> int:
    """Letter long expired, never activated, and no child left in any import."""
    never_activated = or_(
        Account.status == PROVISIONAL,
        and_(
            Account.status == LOCKED,
            Account.locked_reason.in_((LOCKED_BIRTHDATE, LOCKED_NOT_GUARDIAN)),
        ),
    )
    linked = exists().where(Link.account_id == Account.id)
    ids = db.session.scalars(
        select(Account.id).where(
            never_activated,
            Account.provisional_expires_at < clock.ago("NEVER_ACTIVATED_RETENTION"),
            ~linked,
        )
    ).all()
    return delete_accounts(ids)


def delete_accounts(ids: list[int]) -> int:
    """Delete the accounts and every row that hangs on them (also where SQLite does not
    enforce the foreign keys' ON DELETE); their audit events stay, without the account."""
    for chunk in (ids[start : start + 500] for start in range(0, len(ids), 500)):
        for model in (Link, LoginSession, Flow, Token, AuthorizationCode, Disclosure):
            _delete(model, model.account_id.in_(chunk))
        db.session.execute(
            update(AuditEvent).where(AuditEvent.account_id.in_(chunk)).values(account_id=None)
        )
        _delete(Account, Account.id.in_(chunk))
    return len(ids)


@rule("children_unlinked")
def children_without_parent(clock: Clock) -> int:
    return _delete(Child, ~exists().where(Link.child_id == Child.id))


def _last_use() -> Any:
    return func.coalesce(Account.last_login_at, Account.created_at)


@rule("accounts_warned")
def warn_unused_accounts(clock: Clock) -> int:
    """A mail to each active account unused for years: it will be disabled unless used."""
    unused = db.session.scalars(
        select(Account).where(
            Account.status == ACTIVE,
            Account.inactivity_warned_at.is_(None),
            _last_use() < clock.ago("INACTIVITY_WARNING"),
        )
    ).all()
    disabled_on = clock.now + timedelta(seconds=clock.config["INACTIVITY_GRACE"])
    warned = 0
    for account in unused:
        if lifecycle.warn_inactive(account, clock.now):
            if account.email and account.email_verified:  # queued with the warning's mark
                mails.inactivity_warning(account, disabled_on)
            events.commit()
            warned += 1
    return warned


@rule("accounts_disabled")
def disable_unused_accounts(clock: Clock) -> int:
    """Warned accounts still unused after the grace are disabled; those used again are not."""
    came_back = db.session.scalars(
        select(Account).where(
            Account.inactivity_warned_at.is_not(None),
            Account.last_login_at > Account.inactivity_warned_at,
        )
    ).all()
    for account in came_back:
        lifecycle.clear_inactivity_warning(account)
    still_unused = db.session.scalars(
        select(Account).where(
            Account.status == ACTIVE,
            Account.inactivity_warned_at < clock.ago("INACTIVITY_GRACE"),
            _last_use() < Account.inactivity_warned_at,
        )
    ).all()
    disabled = sum(
        lifecycle.disable(account, INACTIVE_REASON) is not None for account in still_unused
    )
    events.commit()
    return disabled


def purge(now: datetime | None = None) -> dict[str, int]:
    """Apply every rule (each committed on its own); the counts, audited without names.

    From the command line or a worker there is no request: the mails' links and templates get
    one built on the issuer (as idp.jobs does), in French.
    """
    if not has_request_context():
        with current_app.test_request_context(base_url=current_app.config["ISSUER"]):
            return purge(now)
    clock = Clock(now or utcnow(), current_app.config)
    counts: dict[str, int] = {}
    for name, apply in RULES.items():
        counts[name] = apply(clock)
        events.commit()
    audit.record("purged", **counts)
    return counts
