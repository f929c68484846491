"""What ends with a sign-in session: its tokens issued without ``offline_access`` are revoked
and its unused codes spent, in the transaction that ends it (OpenID Connect Back-Channel Logout
1.0 §2.7).

Every token row carries the sign-in session its grant was made in (``Token.login_session_id``,
copied from the code and kept through refreshes); ``clients_of`` (in ``idp.accounts.revocation``,
below this package) reads which clients received tokens in each session, for the
``session.ended`` event and the logout confirmation page.
"""

from __future__ import annotations

import time

from sqlalchemy import update

from idp.accounts import events
from idp.extensions import db
from idp.models import AuthorizationCode, Token


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
