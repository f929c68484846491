"""Relying teleservices, registered by administrators (the CLI; RFC 7591 later)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select

from idp import audit
from idp.extensions import db
from idp.models import AuthorizationCode, Client, Token
from idp.models.oauth import PAIRWISE, PUBLIC
from idp.oidc.keys import ALGORITHMS
from idp.oidc.server import SCOPES
from idp.passwords import new_secret, secret_hash
from idp.provisioning.accounts import ProvisioningError

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
SUPPORTED_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def check_uri(uri: str, what: str) -> str:
    """https only, http for the machine itself; absolute, without fragment (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ProvisioningError(f"{what} {uri!r}: no fragment allowed")
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return uri
    if parts.scheme != "https" or not parts.hostname:
        raise ProvisioningError(f"{what} {uri!r}: https URL expected (http only for localhost)")
    return uri


def register_client(
    name: str,
    redirect_uris: list[str],
    scope: str = "openid profile email children",
    auth_method: str = "client_secret_basic",
    subject_type: str = PUBLIC,
    post_logout_redirect_uris: list[str] | None = None,
    initiate_login_uri: str | None = None,
    backchannel_logout_uri: str | None = None,
    id_token_signed_response_alg: str | None = None,
    client_id: str | None = None,
) -> tuple[Client, str | None]:
    """Register a teleservice; returns it and its secret (None for a public client), shown once."""
    if not name.strip():
        raise ProvisioningError("a client needs a name")
    if not redirect_uris:
        raise ProvisioningError("a client needs at least one redirect URI")
    if auth_method not in SUPPORTED_AUTH_METHODS:
        raise ProvisioningError(f"auth method {auth_method!r} is not supported yet")
    if subject_type not in (PUBLIC, PAIRWISE):
        raise ProvisioningError(f"subject type {subject_type!r}: public or pairwise expected")
    scopes = scope.split()
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or "openid" not in scopes:
        raise ProvisioningError(f"scope {scope!r}: openid and any of {' '.join(SCOPES)} expected")
    if id_token_signed_response_alg and id_token_signed_response_alg not in ALGORITHMS:
        raise ProvisioningError(f"ID token algorithm: one of {', '.join(ALGORITHMS)} expected")
    metadata: dict[str, Any] = {
        "client_name": name.strip(),
        "redirect_uris": [check_uri(uri, "redirect URI") for uri in redirect_uris],
        "post_logout_redirect_uris": [
            check_uri(uri, "post-logout redirect URI") for uri in post_logout_redirect_uris or []
        ],
        "scope": " ".join(dict.fromkeys(scopes)),
        "token_endpoint_auth_method": auth_method,
        "subject_type": subject_type,
        "response_types": ["code"],
        "grant_types": ["authorization_code"]
        + ([] if auth_method == "none" else ["refresh_token"]),
    }
    for key, uri in (
        ("initiate_login_uri", initiate_login_uri),
        ("backchannel_logout_uri", backchannel_logout_uri),
    ):
        if uri:
            metadata[key] = check_uri(uri, key.replace("_", " "))
    if id_token_signed_response_alg:
        metadata["id_token_signed_response_alg"] = id_token_signed_response_alg
    secret = None if auth_method == "none" else new_secret(32)
    client = Client(
        client_id=client_id or new_secret(18),
        client_secret=secret_hash(secret) if secret else None,
        client_id_issued_at=int(time.time()),
    )
    client.set_client_metadata(metadata)
    db.session.add(client)
    audit.record("client_registered", client=client, commit=False, name=metadata["client_name"])
    db.session.commit()
    return client, secret


def find_client(client_id: str) -> Client:
    client = db.session.scalar(select(Client).filter_by(client_id=client_id))
    if client is None:
        raise ProvisioningError(f"no client {client_id!r}")
    return client


def list_clients() -> list[Client]:
    return list(db.session.scalars(select(Client).order_by(Client.id)))


def rotate_secret(client_id: str) -> tuple[Client, str]:
    client = find_client(client_id)
    if client.is_public:
        raise ProvisioningError(f"client {client_id!r} is public: it has no secret")
    secret = new_secret(32)
    client.client_secret = secret_hash(secret)
    audit.record("client_secret_rotated", client=client, commit=False)
    db.session.commit()
    return client, secret


def remove_client(client_id: str) -> None:
    """Remove the client with its codes and tokens: nothing it held works any more."""
    client = find_client(client_id)
    db.session.execute(delete(Token).where(Token.client_id == client_id))
    db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.client_id == client_id))
    db.session.delete(client)
    audit.record("client_removed", commit=False, removed_client_id=client_id)
    db.session.commit()


def describe_client(client: Client, secret: str | None = None) -> dict[str, Any]:
    """The client as the contract's `--json` shows it; the secret only when just made."""
    info: dict[str, Any] = {"client_id": client.client_id, **client.client_metadata}
    info["client_name"] = client.name
    if secret is not None:
        info["client_secret"] = secret
    return info
