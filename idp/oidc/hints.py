"""Checking an ``id_token_hint`` (OpenID Connect Core §3.1.2.1, RP-Initiated Logout 1.0 §2).

A hint is an ID token this provider issued: signed with one of its own published keys, by one of
its own algorithms, for its issuer and (when a client is named) for that client. Expiry does not
matter (a hint may be old). Headers that name a key by other means than our `kid` (an embedded
`jwk`, a `jku`, `x5u`, `x5c`) are refused outright, like `alg: none` and HMAC algorithms, so
that no key the sender chose can ever verify it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from idp.oidc.keys import ALGORITHMS

FOREIGN_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit")


class InvalidHint(ValueError):
    """Not an ID token of this provider (for this client)."""


def _header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidHint("not a signed JWT")
    try:
        return dict(extract_compact(token.encode("ascii")).protected)
    except (JoseError, ValueError, UnicodeError) as error:
        raise InvalidHint("malformed JWT") from error


def verify_id_token_hint(token: str, client_id: str | None = None) -> dict[str, Any]:
    """The hint's claims, verified; ``InvalidHint`` when it is not ours (or not the client's)."""
    header = _header(token)
    if header.get("alg") not in ALGORITHMS:
        raise InvalidHint("algorithm not accepted")
    if any(name in header for name in FOREIGN_KEY_HEADERS) or not header.get("kid"):
        raise InvalidHint("the key must be one of ours, named by kid")
    keys = KeySet.import_key_set(current_app.extensions["idp_keys"].public_jwks())
    try:
        claims = jwt.decode(token, keys, algorithms=list(ALGORITHMS)).claims
    except (JoseError, ValueError) as error:
        raise InvalidHint("bad signature") from error
    if claims.get("iss") != current_app.config["ISSUER"] or not isinstance(claims.get("sub"), str):
        raise InvalidHint("not issued here")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not audiences:
        raise InvalidHint("no audience")
    if client_id is not None and client_id not in audiences:
        raise InvalidHint("issued to another client")
    return dict(claims)
