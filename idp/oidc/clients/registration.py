"""Registration by API: initial access tokens (RFC 7591 §3), Dynamic Client Registration
(RFC 7591 §3.1–3.2, OpenID Connect Dynamic Client Registration 1.0) and the client
configuration endpoint (RFC 7592 §2).

An initial access token is minted by an administrator (`idp clients token`), works once and
expires. It is spent only by a *successful* registration: a request refused for its metadata
leaves it usable, so that the administrator's tool can correct the request and try again. It is
spent by a conditional update (``used_at`` still unset, still unexpired) in the same transaction
as the new client, so two registrations presenting one token at once register one client.

Each client registered here gets a registration access token (RFC 7592 §1.1), returned once and
stored as a keyed hash in ``Client.registration_token_hash``; it reads, updates and deletes that
client only. Clients registered with the CLI have none and can't be managed here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from idp import audit
from idp.extensions import db
from idp.models import Client, InitialAccessToken
from idp.oidc.clients import ClientError, registry
from idp.oidc.clients.metadata import validate_metadata
from idp.passwords import new_secret, secret_hash, secret_matches

TOKEN_BYTES = 32  # 256-bit initial and registration access tokens
VIA = "registration_api"
# RFC 7592 §2.2: fields the server sets, which an update request must not carry.
SERVER_FIELDS = (
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
)


class RegistrationRefused(ClientError):
    """A malformed update request (RFC 7592 §2.2): `invalid_request`, 400."""

    error = "invalid_request"
    status = 400


class TokenRefused(RegistrationRefused):
    """A missing, unknown, spent or expired bearer token (RFC 6750 §3.1): 401."""

    error = "invalid_token"
    status = 401


@dataclass(frozen=True)
class Registration:
    """A client with what the response shows once: its new secret, its access token."""

    client: Client
    client_secret: str | None
    access_token: str


def mint_initial_token(expires_in: int) -> tuple[str, datetime]:
    """A new initial access token and its expiry; only its keyed hash is stored."""
    if expires_in <= 0:
        raise ClientError("an initial access token needs a positive lifetime")
    token = new_secret(TOKEN_BYTES)
    expires_at = int(time.time()) + expires_in
    row = InitialAccessToken(token_hash=secret_hash(token), expires_at=expires_at)
    db.session.add(row)
    db.session.flush()
    audit.record(
        "initial_access_token_minted", commit=False, token_id=row.id, expires_at=expires_at
    )
    db.session.commit()
    return token, datetime.fromtimestamp(expires_at, UTC)


def _initial_token(token: str | None) -> InitialAccessToken:
    """The unspent, unexpired token presented; a spent or expired one is audited (a replay?)."""
    row = None
    if token:
        row = db.session.scalar(select(InitialAccessToken).filter_by(token_hash=secret_hash(token)))
    if row is None:
        raise TokenRefused("a valid initial access token is required (Authorization: Bearer)")
    if row.used_at:
        reason = "used"
    elif row.expires_at < time.time():
        reason = "expired"
    else:
        return row
    audit.record("initial_access_token_refused", token_id=row.id, reason=reason)
    raise TokenRefused(f"the initial access token is {reason}")


def _spend(row: InitialAccessToken) -> None:
    """Mark the token used, if nobody else has meanwhile; in the caller's transaction."""
    now = int(time.time())
    result = db.session.execute(
        update(InitialAccessToken)
        .where(
            InitialAccessToken.id == row.id,
            InitialAccessToken.used_at.is_(None),
            InitialAccessToken.expires_at >= now,
        )
        .values(used_at=now)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise TokenRefused("the initial access token is used or expired")


def register(initial_token: str | None, raw: Any) -> Registration:
    """RFC 7591 §3.1–3.2: register a client with checked metadata, spending the token."""
    row = _initial_token(initial_token)
    metadata = validate_metadata(raw)
    _spend(row)
    client, secret = registry.add_client(metadata)
    access_token = new_secret(TOKEN_BYTES)
    client.registration_token_hash = secret_hash(access_token)
    audit.record(
        "client_registered", client=client, commit=False, name=client.name, via=VIA, token_id=row.id
    )
    db.session.commit()
    return Registration(client, secret, access_token)


def managed_client(client_id: str, access_token: str | None) -> Client:
    """RFC 7592 §2: the client, if the token is its registration access token; else 401
    (an unknown client too, so that the answer tells nothing about which clients exist)."""
    client = db.session.scalar(select(Client).filter_by(client_id=client_id))
    stored = client.registration_token_hash if client is not None else None
    if not access_token or not stored or not secret_matches(access_token, stored):
        raise TokenRefused("a valid registration access token for this client is required")
    return client


def read(client_id: str, access_token: str | None) -> Registration:
    """RFC 7592 §2.1: the client's current registration (never its secret)."""
    return Registration(managed_client(client_id, access_token), None, access_token or "")


def _check_update_request(client: Client, raw: Any) -> None:
    """RFC 7592 §2.2: the same client_id, the current secret if any, no server-set field."""
    if not isinstance(raw, dict):
        raise RegistrationRefused("client metadata: a JSON object expected")
    if raw.get("client_id") != client.client_id:
        raise RegistrationRefused("client_id: the client's own identifier is required")
    present = [field for field in SERVER_FIELDS if field in raw]
    if present:
        raise RegistrationRefused(f"{', '.join(present)}: set by the server, not in requests")
    secret = raw.get("client_secret")
    if secret is not None and not (isinstance(secret, str) and client.check_client_secret(secret)):
        raise RegistrationRefused("client_secret: not the client's current secret")


def update_client(client_id: str, access_token: str | None, raw: Any) -> Registration:
    """RFC 7592 §2.2: replace the metadata (an omitted field is unset), checked as at
    registration. A client made confidential gets a secret, a client made public loses it."""
    client = managed_client(client_id, access_token)
    _check_update_request(client, raw)
    metadata = validate_metadata(raw)
    before = client.client_metadata
    changed = sorted(k for k in before.keys() | metadata.keys() if before.get(k) != metadata.get(k))
    client.set_client_metadata(metadata)
    secret = None
    if client.is_public != (client.client_secret is None):
        secret = registry.set_new_secret(client)
    audit.record("client_updated", client=client, commit=False, fields=changed, via=VIA)
    db.session.commit()
    return Registration(client, secret, access_token or "")


def delete_client(client_id: str, access_token: str | None) -> None:
    """RFC 7592 §2.3: remove the client with its codes and tokens."""
    registry.remove_client(managed_client(client_id, access_token).client_id, via=VIA)
