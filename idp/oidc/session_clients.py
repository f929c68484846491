"""Which teleservices a sign-in session let in, and what ends with the session.

Every token row carries the sign-in session its grant was made in (``Token.login_session_id``,
copied from the code and kept through refreshes): ``clients_of`` reads the clients that received
tokens in each session, for the ``session.ended`` event and the logout confirmation page. When a
session ends, its tokens issued without ``offline_access`` are revoked and its unused codes spent
in the same transaction (OpenID Connect Back-Channel Logout 1.0 §2.7).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import select, update

from idp.accounts import events
from idp.extensions import db
from idp.models import AuthorizationCode, Token


def clients_of(session_ids: Iterable[str]) -> dict[str, list[str]]:
    """The client ids that received tokens in each session, by session id (sorted; a session
    that let no teleservice in is absent)."""
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


def end_session_grants(session_ids: list[str], now: int | None = None) -> int:
    """Revoke the access and refresh tokens issued in these sessions without
    ``offline_access``, and spend their unused codes; how many tokens were live. The caller
    commits."""
    if not session_ids:
        return 0
    now = now or int(time.time())
    in_sessions = Token.login_session_id.in_(session_ids), Token.offline.is_(False)
    revoked = 0
    for column in ("access_token_revoked_at", "refresh_token_revoked_at"):
        revoked += db.session.execute(
            update(Token).where(*in_sessions, getattr(Token, column) == 0).values({column: now}),
            execution_options={"synchronize_session": False},
        ).rowcount
    db.session.execute(
        update(AuthorizationCode)
        .where(
            AuthorizationCode.login_session_id.in_(session_ids),
            AuthorizationCode.used_at.is_(None),
        )
        .values(used_at=now),
        execution_options={"synchronize_session": False},
    )
    return revoked


@events.subscribe("session.ended", in_transaction=True)
def revoke_with_session(event: events.Event) -> None:
    """In the transaction that ends the sessions: their online grants end with them."""
    end_session_grants([item["id"] for item in event.data.get("sessions", [])])
