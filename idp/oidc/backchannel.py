"""OpenID Connect Back-Channel Logout 1.0: when a sign-in session ends, each teleservice that
received tokens in it and registered a ``backchannel_logout_uri`` gets a logout token.

The queueing is part of the change: the ``session.ended`` event is emitted inside the
transaction that ends the sessions, and one outbox row per (session, client) is written in that
same transaction, so a logout token exists if and only if the session really ended. Delivery is
the outbox's (``idp.outbox``): off the request, retried with backoff while the teleservice is
down, and still pending after a restart. The token is built and signed at each attempt, with the
current key and a fresh ``iat``/``exp``, so that a late retry is not refused as expired. Every
attempt is in the audit trail (``backchannel_logout_delivered`` / ``_failed``).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import requests
from flask import current_app
from joserfc import jwt
from sqlalchemy import select

from idp import audit, outbox
from idp.accounts import events
from idp.extensions import db
from idp.models import Account, Client
from idp.oidc import claims
from idp.oidc.keys import DEFAULT_ALG

KIND = "backchannel_logout"
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TTL = 120  # seconds: §2.4 recommends a short lifetime
TIMEOUT = 5  # seconds per attempt; a slow teleservice waits for the next one
RETRYABLE = (408, 425, 429)  # with 5xx; other 4xx say the token itself was refused (§2.8)


class DeliveryFailed(Exception):
    """The teleservice did not acknowledge the logout token; the outbox tries again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@events.subscribe("session.ended", in_transaction=True)
def queue_logout_tokens(event: events.Event) -> None:
    """One outbox row per ended session and client with a back-channel logout URI."""
    ended = event.data.get("sessions") or []
    client_ids = {client_id for item in ended for client_id in item.get("clients", [])}
    if not client_ids:
        return
    found = db.session.scalars(select(Client).where(Client.client_id.in_(client_ids)))
    by_id = {client.client_id: client for client in found}
    account = db.session.get(Account, event.account_id) if event.account_id else None
    for item in ended:
        for client_id in item.get("clients", []):
            client = by_id.get(client_id)
            if client is None or not client.client_metadata.get("backchannel_logout_uri"):
                continue
            payload = {
                "client_id": client_id,
                "sid": claims.session_id(item["id"], client),
                "reason": event.data.get("reason"),
                "account_id": event.account_id,
            }
            if account is not None:
                payload["sub"] = claims.parent_subject(account, client)
            outbox.enqueue(KIND, payload, account_id=event.account_id)


def logout_token(client: Client, sid: str, sub: str | None) -> str:
    """§2.4: a signed JWT with iss, aud, iat, exp, jti, events, sid, sub, and no nonce."""
    alg = client.id_token_signed_response_alg or DEFAULT_ALG
    key = current_app.extensions["idp_keys"].signing_key(alg)
    now = int(time.time())
    token_claims: dict[str, Any] = {
        "iss": current_app.config["ISSUER"],
        "aud": client.client_id,
        "iat": now,
        "exp": now + TOKEN_TTL,
        "jti": secrets.token_urlsafe(16),
        "events": {EVENT: {}},
        "sid": sid,
    }
    if sub:
        token_claims["sub"] = sub
    header = {"alg": alg, "kid": key.kid, "typ": "logout+jwt"}
    return jwt.encode(header, token_claims, key, algorithms=[alg])


@outbox.handler(KIND)
def deliver(payload: dict[str, Any]) -> None:
    """§2.5: POST the token as ``logout_token``; 200 (or 204) is an acknowledgement."""
    client = db.session.scalar(select(Client).filter_by(client_id=payload["client_id"]))
    uri = client.client_metadata.get("backchannel_logout_uri") if client else None
    if client is None or not uri:  # removed (or unregistered) meanwhile: nobody to tell
        raise outbox.GiveUp("client_gone")
    token = logout_token(client, payload["sid"], payload.get("sub"))
    try:
        response = requests.post(
            uri, data={"logout_token": token}, timeout=TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as error:
        _audit(client, payload, "backchannel_logout_failed", error=type(error).__name__)
        raise DeliveryFailed("unreachable") from None
    status = response.status_code
    if status in (200, 204):
        _audit(client, payload, "backchannel_logout_delivered", status=status)
        return
    _audit(client, payload, "backchannel_logout_failed", status=status)
    if status >= 500 or status in RETRYABLE:
        raise DeliveryFailed(f"http_{status}")
    raise outbox.GiveUp(f"http_{status}")


def _audit(client: Client, payload: dict[str, Any], name: str, **details: Any) -> None:
    audit.record(
        name,
        client=client,
        account_id=payload.get("account_id"),
        reason=payload.get("reason"),
        **details,
    )
