"""Ending what an account opened: sign-in sessions, tokens and unused codes, mailed links.

``end_access`` is what every credential change calls (password change or reset, help-desk
reset): whoever knew the old password keeps nothing. ``end_sessions`` is the one way any
session ends (sign-out, "Fermer cette session", "Se déconnecter partout", a lock), so that
``session.ended`` always says which sessions ended and which clients got tokens in them: what
back-channel logout needs. Every function adds to the caller's transaction; the caller commits
with ``events.commit()``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from idp.accounts import events
from idp.extensions import db
from idp.models import AuthorizationCode, Flow, LoginSession, Token
from idp.models.base import utcnow
from idp.models.flows import CANCELLED, SENT


@dataclass(frozen=True)
class EndedSession:
    id: str
    clients: list[str]  # the clients that received tokens in this session


@dataclass(frozen=True)
class Ended:
    """What ``end_access`` ended: for the audit trail and the pages that say so."""

    sessions: list[EndedSession] = field(default_factory=list)
    tokens_revoked: int = 0
    links_cancelled: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "sessions_ended": len(self.sessions),
            "tokens_revoked": self.tokens_revoked,
            "links_cancelled": self.links_cancelled,
        }


def end_access(account_id: int, reason: str, keep_session: str | None = None) -> Ended:
    """End every session (but ``keep_session``), revoke every token and unused code, cancel
    every pending mailed link of the account; returns what it ended."""
    return Ended(
        sessions=end_sessions(account_id, reason, keep=keep_session),
        tokens_revoked=revoke_account_tokens(account_id, reason),
        links_cancelled=cancel_links(account_id, reason),
    )


def end_sessions(
    account_id: int, reason: str, only: str | None = None, keep: str | None = None
) -> list[EndedSession]:
    """End the account's open sessions (or just ``only``), never ``keep``; the ones this call
    ended (a session ended twice at once is reported once)."""
    conditions: list[Any] = [LoginSession.account_id == account_id, LoginSession.ended_at.is_(None)]
    if only is not None:
        conditions.append(LoginSession.id == only)
    if keep is not None:
        conditions.append(LoginSession.id != keep)
    ids = db.session.scalars(
        update(LoginSession)
        .where(*conditions)
        .values(ended_at=utcnow())
        .returning(LoginSession.id),
        execution_options={"synchronize_session": False},
    ).all()
    if not ids:
        return []
    clients = clients_of(ids)
    ended = [EndedSession(session_id, clients.get(session_id, [])) for session_id in sorted(ids)]
    events.emit(
        "session.ended",
        account_id,
        sessions=[{"id": item.id, "clients": item.clients} for item in ended],
        reason=reason,
    )
    return ended


def clients_of(session_ids: Iterable[str]) -> dict[str, list[str]]:
    """The client ids that received tokens in each session, by session id (sorted; a session
    that let no teleservice in is absent). Every token row carries the sign-in session its
    grant was made in (``Token.login_session_id``, kept through refreshes)."""
    ids = list(session_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Token.login_session_id, Token.client_id)
        .where(Token.login_session_id.in_(ids))
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for session_id, client_id in rows:
        found.setdefault(session_id, set()).add(client_id)
    return {key: sorted(value) for key, value in found.items()}


def revoke_tokens(condition: Any, now: int | None = None) -> int:
    """Revoke the access and refresh tokens of the rows matching ``condition``; how many of
    them (access and refresh counted apart) were live. A column is set only where still unset,
    so the first revocation time stays."""
    now = now or int(time.time())
    revoked = db.session.execute(
        update(Token)
        .where(condition, Token.access_token_revoked_at == 0)
        .values(access_token_revoked_at=now)
    ).rowcount
    revoked += db.session.execute(
        update(Token)
        .where(condition, Token.refresh_token_revoked_at == 0)
        .values(refresh_token_revoked_at=now)
    ).rowcount
    return revoked


def revoke_account_tokens(account_id: int, reason: str) -> int:
    """Revoke every token of the account and spend its unused codes: each teleservice has to
    come back through the provider. Returns how many tokens it revoked."""
    now = int(time.time())
    revoked = revoke_tokens(Token.account_id == account_id, now)
    db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.account_id == account_id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
    )
    if revoked:
        events.emit("tokens.revoked", account_id, count=revoked, reason=reason)
    return revoked


def cancel_links(account_id: int, reason: str, kinds: tuple[str, ...] = ()) -> int:
    """Cancel the account's live mailed links (of ``kinds``, or all); how many."""
    statement = update(Flow).where(Flow.account_id == account_id, Flow.state == SENT)
    if kinds:
        statement = statement.where(Flow.kind.in_(kinds))
    cancelled = db.session.execute(statement.values(state=CANCELLED)).rowcount
    if cancelled:
        events.emit("links.cancelled", account_id, count=cancelled, reason=reason)
    return cancelled
