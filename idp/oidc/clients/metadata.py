"""Client metadata, checked one way for every door: `idp clients add` and RFC 7591/7592.

``validate_metadata`` takes metadata under its RFC 7591 §2 / OpenID Connect Dynamic Client
Registration §2 names and returns what is stored, or raises ``MetadataError`` whose ``error`` is
the RFC 7591 §3.2.2 code. Fields this provider does not use are ignored (RFC 7591 §2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from idp.models.oauth import PAIRWISE, PUBLIC
from idp.oidc.clients import ClientError
from idp.oidc.keys import ALGORITHMS
from idp.oidc.server import SCOPES

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
SUPPORTED_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
GRANT_TYPES = ("authorization_code", "refresh_token")
RESPONSE_TYPES = ("code",)
LOOPBACK = ("localhost", "127.0.0.1", "::1")
DEFAULT_SCOPE = "openid profile email children"
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 300
CHILD_PLACEHOLDER = "{child}"
UAI = re.compile(r"^\d{7}[A-Z]$")  # a school's national identifier: 7 digits and a letter


class MetadataError(ClientError):
    """Metadata that can't be registered; the message says which field and why."""

    error = "invalid_client_metadata"
    status = 400


class RedirectURIError(MetadataError):
    """A redirection URI that can't be registered (RFC 7591 §3.2.2)."""

    error = "invalid_redirect_uri"


def check_uri(uri: Any, what: str, error: type[MetadataError] = MetadataError) -> str:
    """https only, http for the machine itself; absolute, without fragment (RFC 6749 §3.1.2)."""
    if not isinstance(uri, str):
        raise error(f"{what} {uri!r}: a URL string expected")
    problem = _uri_problem(uri)
    if problem:
        raise error(f"{what} {uri!r}: {problem}")
    return uri


def _uri_problem(uri: str) -> str | None:
    if any(c <= " " or c == "\x7f" for c in uri):
        return "no spaces or control characters allowed"
    try:
        parts = urlsplit(uri)
        host, _port = parts.hostname, parts.port
    except ValueError:
        return "not a valid URL"
    if parts.fragment or "#" in uri:
        return "no fragment allowed"
    if parts.scheme == "http" and host in LOOPBACK:
        return None
    if parts.scheme != "https" or not host:
        return "https URL expected (http only for localhost)"
    return None


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    """A string field, or None when absent (or null, as RFC 7592 §2.2 treats omitted fields)."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise MetadataError(f"{key}: a string expected")
    return value


def _strings(raw: Mapping[str, Any], key: str) -> list[str] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MetadataError(f"{key}: a list of strings expected")
    return value


def _choice(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = _text(raw, key) or default
    if value not in allowed:
        raise MetadataError(f"{key} {value!r}: one of {', '.join(allowed)} expected")
    return value


def _auth_method(raw: Mapping[str, Any]) -> str:
    method = _text(raw, "token_endpoint_auth_method")
    if method in AUTH_METHODS and method not in SUPPORTED_AUTH_METHODS:
        raise MetadataError(f"auth method {method!r} is not supported yet")
    key = "token_endpoint_auth_method"
    return _choice(raw, key, SUPPORTED_AUTH_METHODS, "client_secret_basic")


def _scope(raw: Mapping[str, Any]) -> str:
    scope = _text(raw, "scope")
    scopes = (DEFAULT_SCOPE if scope is None else scope).split()
    if any(s not in SCOPES for s in scopes) or "openid" not in scopes:
        raise MetadataError(f"scope {scope!r}: openid and any of {' '.join(SCOPES)} expected")
    return " ".join(dict.fromkeys(scopes))


def _grant_types(raw: Mapping[str, Any], auth_method: str) -> list[str]:
    """Known types only, with `code` (RFC 7591 §2.1); the server then sets them (§3.2.1):
    a refresh token for confidential clients (docs/contract.md §3), none for public ones."""
    grant_types = _strings(raw, "grant_types") or ["authorization_code"]
    response_types = _strings(raw, "response_types") or ["code"]
    for key, values, known in (
        ("grant_types", grant_types, GRANT_TYPES),
        ("response_types", response_types, RESPONSE_TYPES),
    ):
        unknown = [value for value in values if value not in known]
        if unknown:
            raise MetadataError(f"{key} {unknown!r}: only {', '.join(known)} supported")
    if "authorization_code" not in grant_types:
        raise MetadataError("grant_types: authorization_code is required for response type code")
    return ["authorization_code"] + ([] if auth_method == "none" else ["refresh_token"])


def _name(raw: Mapping[str, Any], redirect_uris: list[str]) -> str:
    """The name parents see; when none is given, the host of the first (checked) redirect URI."""
    name = _text(raw, "client_name")
    if name is None:
        return urlsplit(redirect_uris[0]).hostname or redirect_uris[0]
    if not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise MetadataError(f"a client needs a name (at most {MAX_NAME_LENGTH} characters)")
    return name.strip()


def _schools(raw: Mapping[str, Any]) -> list[str]:
    """The UAIs a teleservice is limited to (none: every school), upper-cased, each once."""
    schools = [uai.strip().upper() for uai in _strings(raw, "schools") or []]
    bad = [uai for uai in schools if not UAI.match(uai)]
    if bad:
        raise MetadataError(f"schools {bad!r}: UAI (7 digits and a letter) expected")
    return list(dict.fromkeys(schools))


def _description(raw: Mapping[str, Any]) -> str | None:
    description = _text(raw, "description")
    if description is None or not description.strip():
        return None
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise MetadataError(f"description: at most {MAX_DESCRIPTION_LENGTH} characters")
    return " ".join(description.split())


def _child_page_uri(raw: Mapping[str, Any]) -> str | None:
    """Where the portal sends a parent for one child: a URL with ``{child}`` in it, replaced
    by the child's `sub` as the client sees it."""
    uri = _text(raw, "child_page_uri")
    if not uri:
        return None
    if uri.count(CHILD_PLACEHOLDER) != 1:
        raise MetadataError(f"child page URI {uri!r}: {CHILD_PLACEHOLDER} expected once")
    check_uri(uri.replace(CHILD_PLACEHOLDER, "child"), "child page URI")
    return uri


def _portal_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """How the portal offers the teleservice (contract §2, §4); only the fields given."""
    fields: dict[str, Any] = {
        "schools": _schools(raw),
        "description": _description(raw),
        "child_page_uri": _child_page_uri(raw),
    }
    return {key: value for key, value in fields.items() if value}


def validate_metadata(raw: Any) -> dict[str, Any]:
    """Check a client's metadata strictly and return it as stored (RFC 7591 §2, §3.2.2)."""
    if not isinstance(raw, Mapping):
        raise MetadataError("client metadata: a JSON object expected")
    redirect_uris = [
        check_uri(uri, "redirect URI", RedirectURIError)
        for uri in _strings(raw, "redirect_uris") or []
    ]
    if not redirect_uris:
        raise RedirectURIError("a client needs at least one redirect URI")
    auth_method = _auth_method(raw)
    metadata: dict[str, Any] = {
        "client_name": _name(raw, redirect_uris),
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": [
            check_uri(uri, "post-logout redirect URI", RedirectURIError)
            for uri in _strings(raw, "post_logout_redirect_uris") or []
        ],
        "scope": _scope(raw),
        "token_endpoint_auth_method": auth_method,
        "subject_type": _choice(raw, "subject_type", (PUBLIC, PAIRWISE), PUBLIC),
        "response_types": ["code"],
        "grant_types": _grant_types(raw, auth_method),
    }
    for key in ("initiate_login_uri", "backchannel_logout_uri"):
        uri = _text(raw, key)
        if uri:
            metadata[key] = check_uri(uri, key.replace("_", " "))
    metadata.update(_portal_fields(raw))
    if _text(raw, "id_token_signed_response_alg") is not None:
        metadata["id_token_signed_response_alg"] = _choice(
            raw, "id_token_signed_response_alg", tuple(ALGORITHMS), ""
        )
    return metadata
