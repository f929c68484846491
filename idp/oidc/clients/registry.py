"""The registered teleservices and their secrets: added by `idp clients add` here, by API in
``idp.oidc.clients.registration``; both check metadata with ``metadata.validate_metadata``.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, select

from idp import audit
from idp.extensions import db
from idp.models import AuthorizationCode, Client, Token
from idp.models.oauth import PUBLIC
from idp.oidc.clients import ClientError
from idp.oidc.clients.metadata import DEFAULT_SCOPE, validate_metadata
from idp.passwords import new_secret, secret_hash

SECRET_BYTES = 32  # 256-bit client secrets


def register_client(
    name: str,
    redirect_uris: list[str],
    scope: str = DEFAULT_SCOPE,
    auth_method: str = "client_secret_basic",
    subject_type: str = PUBLIC,
    post_logout_redirect_uris: list[str] | None = None,
    initiate_login_uri: str | None = None,
    backchannel_logout_uri: str | None = None,
    id_token_signed_response_alg: str | None = None,
    client_id: str | None = None,
    schools: list[str] | None = None,
    description: str | None = None,
    child_page_uri: str | None = None,
) -> tuple[Client, str | None]:
    """Register a teleservice; returns it and its secret (None for a public client), shown once."""
    metadata = validate_metadata(
        {
            "client_name": name,
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris or []),
            "scope": scope,
            "token_endpoint_auth_method": auth_method,
            "subject_type": subject_type,
            "initiate_login_uri": initiate_login_uri,
            "backchannel_logout_uri": backchannel_logout_uri,
            "id_token_signed_response_alg": id_token_signed_response_alg,
            "schools": list(schools or []),
            "description": description,
            "child_page_uri": child_page_uri,
        }
    )
    client, secret = add_client(metadata, client_id)
    audit.record("client_registered", client=client, commit=False, name=client.name, via="cli")
    db.session.commit()
    return client, secret


def add_client(metadata: dict[str, Any], client_id: str | None = None) -> tuple[Client, str | None]:
    """Add (not commit) a client with checked metadata and, unless public, a new secret."""
    client = Client(client_id=client_id or new_secret(18), client_id_issued_at=int(time.time()))
    client.set_client_metadata(metadata)
    secret = set_new_secret(client)
    db.session.add(client)
    return client, secret


def set_new_secret(client: Client) -> str | None:
    """A new random secret, stored as its keyed hash; a public client has none (None)."""
    secret = None if client.is_public else new_secret(SECRET_BYTES)
    client.client_secret = secret_hash(secret) if secret else None
    return secret


def find_client(client_id: str) -> Client:
    client = db.session.scalar(select(Client).filter_by(client_id=client_id))
    if client is None:
        raise ClientError(f"no client {client_id!r}")
    return client


def list_clients() -> list[Client]:
    return list(db.session.scalars(select(Client).order_by(Client.id)))


def rotate_secret(client_id: str) -> tuple[Client, str]:
    client = find_client(client_id)
    if client.is_public:
        raise ClientError(f"client {client_id!r} is public: it has no secret")
    secret = set_new_secret(client)
    audit.record("client_secret_rotated", client=client, commit=False)
    db.session.commit()
    return client, secret


def remove_client(client_id: str, via: str = "cli") -> None:
    """Remove the client with its codes and tokens: nothing it held works any more."""
    client = find_client(client_id)
    db.session.execute(delete(Token).where(Token.client_id == client_id))
    db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.client_id == client_id))
    audit.record("client_removed", client=client, commit=False, name=client.name, via=via)
    db.session.delete(client)
    db.session.commit()


def describe_client(client: Client, secret: str | None = None) -> dict[str, Any]:
    """The client as the contract's `--json` shows it; the secret only when just made."""
    info: dict[str, Any] = {"client_id": client.client_id, **client.client_metadata}
    info["client_name"] = client.name
    if secret is not None:
        info["client_secret"] = secret
    return info
