"""Signing a parent in and out of a demo teleservice: OpenID Connect with the provider.

- ``/login``: the authorization request (code + PKCE S256). Also the ``initiate_login_uri`` of a
  third-party-initiated login (OpenID Connect Core §4): ``iss`` must be our provider, and
  ``target_link_uri``, when it is one of our own pages, is where the parent lands afterwards.
- ``/callback``: the code exchange; the ID token is checked (signature, iss, aud, nonce, exp).
- ``/logout``: local sign-out, then RP-initiated logout at the provider.
- ``/backchannel-logout``: Back-Channel Logout 1.0; the session with the token's ``sid`` (or
  every session of its ``sub``) ends: its next page asks to sign in.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.urls import add_params_to_uri
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from . import i18n
from .config import Settings
from .logout import EndedSessions, InvalidLogoutToken, verify_logout_token

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, template_folder="templates")

SETTINGS_KEY = "rp_settings"
CLIENT_KEY = "rp_oidc_client"
ENDED_KEY = "rp_ended_sessions"
STATE_PREFIX = "_state_provider_"  # where Authlib keeps pending authorization requests
MAX_PENDING_LOGINS = 3
TOKEN_ERRORS = (AuthlibBaseError, JoseError, requests.RequestException, ValueError, RuntimeError)
SAFE_ERROR_CODE = re.compile(r"[a-z_]{1,64}")


class ProviderUnavailable(Exception):
    """The identity provider cannot be reached or its discovery document is unusable."""


def settings() -> Settings:
    return current_app.extensions[SETTINGS_KEY]


def _client() -> Any:
    return current_app.extensions[CLIENT_KEY]


def ended_sessions() -> EndedSessions:
    return current_app.extensions[ENDED_KEY]


def provider_metadata() -> dict[str, Any]:
    """Discovery document (fetched once by Authlib), checked against the configured issuer."""
    try:
        metadata = _client().load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery failed: {exc}") from exc
    issuer = settings().issuer
    if metadata.get("issuer") != issuer:
        # OpenID Connect Discovery 1.0 §4.3: the issuer must match exactly.
        raise ProviderUnavailable(f"discovery issuer {metadata.get('issuer')!r} != {issuer!r}")
    return metadata


def current_user() -> dict[str, Any] | None:
    return session.get("user")


def own_child(child_sub: str) -> dict[str, Any]:
    """The signed-in parent's child of that ``sub`` (from the children claim), else a 404."""
    user = current_user() or {}
    found = next((c for c in user.get("children", []) if c["sub"] and c["sub"] == child_sub), None)
    if found is None:
        abort(404)
    return found


@bp.before_app_request
def end_sessions_logged_out_elsewhere() -> None:
    """A session the provider ended by back-channel logout ends here at its next request."""
    user = current_user()
    if user is not None and ended_sessions().covers(user):
        language = session.get("lang")
        session.clear()
        if language:
            session["lang"] = language


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The page needs a signed-in parent: else sign in first, then come back to it."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            session["next"] = request.path
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    return wrapper


def _own_page(url: str | None) -> str | None:
    """``url`` if it is a page of this teleservice (never an open redirect), else None."""
    if not url:
        return None
    ours, parts = urlsplit(settings().public_url), urlsplit(url)
    if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc) or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _prune_pending_logins() -> None:
    """Keep few pending authorization requests so abandoned sign-ins don't bloat the cookie."""
    pending = sorted(
        (key for key in session if key.startswith(STATE_PREFIX)),
        key=lambda key: session[key].get("exp", 0),
    )
    for key in pending[: max(0, len(pending) - MAX_PENDING_LOGINS + 1)]:
        session.pop(key)


@bp.get("/langue/<code>")
def language(code: str) -> Response:
    """The language switch: remembered in the session, and passed on at the next sign-in."""
    if code in i18n.LANGUAGES:
        session["lang"] = code
    return redirect(url_for("pages.home"))


def signed_out_notice() -> bool:
    """True once after a sign-out here: the home page says so, once."""
    return bool(session.pop("signed_out", False))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    iss = request.values.get("iss")
    if iss is not None and iss != settings().issuer:  # Core §4: only our provider may start it
        log.warning("Third-party-initiated login from unexpected issuer %r", iss)
        return login_error("issuer_mismatch")
    target = _own_page(request.values.get("target_link_uri"))
    if target:
        session["next"] = target
    provider_metadata()
    extra = {
        name: value
        for name in ("prompt", "login_hint")
        if (value := request.values.get(name, "").strip())
    }
    extra["ui_locales"] = i18n.current_language()  # the provider's pages follow
    _prune_pending_logins()
    try:
        return _client().authorize_redirect(settings().redirect_uri, **extra)
    except RuntimeError as exc:  # no authorization_endpoint in discovery
        raise ProviderUnavailable(str(exc)) from exc


def login_error(code: str, status: int = 400) -> tuple[str, int]:
    shown = code if SAFE_ERROR_CODE.fullmatch(code) else "invalid_request"
    return render_template("rp/login_error.html", code=shown), status


@bp.get("/callback")
def callback() -> Response | tuple[str, int]:
    iss = request.args.get("iss")
    if iss is not None and iss != settings().issuer:
        log.warning("Authorization response from unexpected issuer %r", iss)
        return login_error("issuer_mismatch")
    if error := request.args.get("error"):
        log.info("Sign-in refused: %s (%s)", error, request.args.get("error_description"))
        session.pop(STATE_PREFIX + request.args.get("state", ""), None)
        return login_error(error)
    metadata = provider_metadata()
    if iss is None and metadata.get("authorization_response_iss_parameter_supported"):
        log.warning("Authorization response without the iss parameter (RFC 9207)")
        return login_error("issuer_mismatch")
    return _finish_login()


def _finish_login() -> Response | tuple[str, int]:
    """Exchange the code and validate the ID token (signature, iss, aud, nonce, exp)."""
    try:
        token = _client().authorize_access_token()
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise ProviderUnavailable(f"token endpoint: {exc}") from exc
    except TOKEN_ERRORS as exc:
        log.warning("Sign-in failed: %r", exc)
        return login_error("invalid_response")
    claims = token.get("userinfo")
    if not claims or not token.get("id_token"):
        log.warning("Token response without a valid ID token")
        return login_error("invalid_response")
    target = session.pop("next", None)
    language = session.get("lang")
    session.clear()  # a new sign-in: nothing of a previous parent stays
    if claims.get("locale") in i18n.LANGUAGES:  # the language the parent uses on the provider
        language = claims["locale"]
    if language:
        session["lang"] = language
    session["user"] = {
        "sub": claims["sub"],
        "sid": _text(claims.get("sid")),
        "signed_in_at": int(time.time()),
        "given_name": _text(claims.get("given_name")),
        "family_name": _text(claims.get("family_name")),
        "children": _children(claims.get("children")),
    }
    session["id_token"] = token["id_token"]
    return redirect(target or url_for("pages.home"))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _children(value: Any) -> list[dict[str, Any]]:
    """Keep only the fields shown, so the session cookie stays small."""
    if not isinstance(value, list):
        return []
    children = []
    for child in value:
        if not isinstance(child, dict):
            continue
        school = child.get("school") if isinstance(child.get("school"), dict) else {}
        children.append(
            {
                "sub": _text(child.get("sub")),
                "given_name": _text(child.get("given_name")),
                "family_name": _text(child.get("family_name")),
                "class_level": _text(child.get("class_level")),
                "school": {"uai": _text(school.get("uai")), "name": _text(school.get("name"))},
            }
        )
    return children


@bp.post("/logout")
def logout() -> Response:
    id_token = session.get("id_token")
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language  # signing out keeps the language
    session["signed_out"] = True  # the home page says so, once
    home_url = url_for("pages.home")
    if not id_token:
        return redirect(home_url)
    try:
        endpoint = provider_metadata().get("end_session_endpoint")
    except ProviderUnavailable as exc:
        log.warning("Local logout only, provider unavailable: %s", exc)
        return redirect(home_url)
    if not endpoint:
        return redirect(home_url)
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": settings().post_logout_redirect_uri,
        "client_id": settings().client_id,
    }
    return redirect(add_params_to_uri(endpoint, params))


@bp.post("/backchannel-logout")
def backchannel_logout() -> tuple[str, int, dict[str, str]]:
    """Back-Channel Logout 1.0 §2.5–2.8: 200 once the sessions are ended, 400 if refused."""
    headers = {"Cache-Control": "no-store"}
    try:
        metadata = provider_metadata()
        jwks = _client().fetch_jwk_set(force=True)  # keys may have rotated
        claims = verify_logout_token(
            request.form.get("logout_token", ""), jwks, metadata["issuer"], settings().client_id
        )
    except (InvalidLogoutToken, ProviderUnavailable, requests.RequestException) as exc:
        log.warning("Logout token refused: %s", exc)
        return "", 400, headers
    ended_sessions().end(claims)
    log.info("Back-channel logout: session ended")
    return "", 200, headers
