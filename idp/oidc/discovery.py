"""The provider's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414), built once per app."""

from __future__ import annotations

import hashlib
import json

from flask import current_app, url_for

from idp.oidc.keys import ALGORITHMS
from idp.oidc.server import SCOPES

CLAIMS = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "sid",
    "given_name",
    "family_name",
    "name",
    "locale",
    "email",
    "email_verified",
    "children",
]


def _build() -> dict:
    issuer = current_app.config["ISSUER"]

    def endpoint(name: str) -> str:
        return issuer + url_for(name)

    return {
        "issuer": issuer,
        "authorization_endpoint": endpoint("oidc.authorize"),
        "token_endpoint": endpoint("oidc.token"),
        "userinfo_endpoint": endpoint("oidc.userinfo"),
        "jwks_uri": endpoint("oidc.jwks"),
        "revocation_endpoint": endpoint("oidc.revoke"),
        "end_session_endpoint": endpoint("oidc.end_session"),
        "registration_endpoint": endpoint("registration.register"),
        "scopes_supported": SCOPES,
        "claims_supported": CLAIMS,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": ["fr", "en"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }


def metadata() -> dict:
    cache = current_app.extensions.setdefault("idp_discovery", {})
    if "document" not in cache:
        cache["document"] = _build()
    return cache["document"]


def served() -> tuple[bytes, str]:
    """The document as served, and its ETag: built once per application."""
    cache = current_app.extensions.setdefault("idp_discovery", {})
    if "body" not in cache:
        body = json.dumps(metadata(), separators=(",", ":")).encode()
        cache["etag"] = hashlib.sha256(body).hexdigest()[:32]
        cache["body"] = body
    return cache["body"], cache["etag"]
