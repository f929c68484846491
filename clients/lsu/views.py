"""Routes of the LSU demo teleservice: home page, sign-in by SSO, callback, logout."""

from __future__ import annotations

import logging
import re
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.urls import add_params_to_uri
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from . import i18n
from .config import Settings

log = logging.getLogger(__name__)
bp = Blueprint("lsu", __name__)

SETTINGS_KEY = "lsu_settings"
CLIENT_KEY = "lsu_oidc_client"
STATE_PREFIX = "_state_provider_"  # where Authlib keeps pending authorization requests
MAX_PENDING_LOGINS = 3
TOKEN_ERRORS = (AuthlibBaseError, JoseError, requests.RequestException, ValueError, RuntimeError)
SAFE_ERROR_CODE = re.compile(r"[a-z_]{1,64}")


class ProviderUnavailable(Exception):
    """The identity provider cannot be reached or its discovery document is unusable."""


def _settings() -> Settings:
    return current_app.extensions[SETTINGS_KEY]


def _client() -> Any:
    return current_app.extensions[CLIENT_KEY]


def provider_metadata() -> dict[str, Any]:
    """Discovery document (fetched once by Authlib), checked against LSU_ISSUER."""
    try:
        metadata = _client().load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery failed: {exc}") from exc
    issuer = _settings().issuer
    if metadata.get("issuer") != issuer:
        # OpenID Connect Discovery 1.0 §4.3: the issuer must match exactly.
        raise ProviderUnavailable(f"discovery issuer {metadata.get('issuer')!r} != {issuer!r}")
    return metadata


def _prune_pending_logins() -> None:
    """Keep few pending authorization requests so abandoned sign-ins don't bloat the cookie."""
    pending = sorted(
        (key for key in session if key.startswith(STATE_PREFIX)),
        key=lambda key: session[key].get("exp", 0),
    )
    for key in pending[: max(0, len(pending) - MAX_PENDING_LOGINS + 1)]:
        session.pop(key)


@bp.get("/")
def home() -> str:
    signed_out = session.pop("signed_out", False)
    return render_template("home.html", user=session.get("user"), signed_out=signed_out)


@bp.get("/langue/<code>")
def language(code: str) -> Response:
    """The language switch: remembered in the session, and passed on at the next sign-in."""
    if code in i18n.LANGUAGES:
        session["lang"] = code
    return redirect(url_for("lsu.home"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    provider_metadata()
    extra = {
        name: value
        for name in ("prompt", "login_hint")
        if (value := request.values.get(name, "").strip())
    }
    extra["ui_locales"] = i18n.current_language()  # the provider's pages follow
    _prune_pending_logins()
    try:
        return _client().authorize_redirect(_settings().redirect_uri, **extra)
    except RuntimeError as exc:  # no authorization_endpoint in discovery
        raise ProviderUnavailable(str(exc)) from exc


def login_error(code: str, status: int = 400) -> tuple[str, int]:
    shown = code if SAFE_ERROR_CODE.fullmatch(code) else "invalid_request"
    return render_template("login_error.html", code=shown), status


@bp.get("/callback")
def callback() -> Response | tuple[str, int]:
    iss = request.args.get("iss")
    if iss is not None and iss != _settings().issuer:
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
    session["user"] = {
        "sub": claims["sub"],
        "given_name": _text(claims.get("given_name")),
        "family_name": _text(claims.get("family_name")),
        "children": _children(claims.get("children")),
    }
    session["id_token"] = token["id_token"]
    if claims.get("locale") in i18n.LANGUAGES:  # the language the parent uses on the provider
        session["lang"] = claims["locale"]
    return redirect(url_for("lsu.home"))


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
    home_url = url_for("lsu.home")
    if not id_token:
        return redirect(home_url)
    try:
        endpoint = provider_metadata().get("end_session_endpoint")
    except ProviderUnavailable as exc:
        log.warning("Local logout only, provider unavailable: %s", exc)
        return redirect(home_url)
    if not endpoint:
        return redirect(home_url)
    settings = _settings()
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": settings.post_logout_redirect_uri,
        "client_id": settings.client_id,
    }
    return redirect(add_params_to_uri(endpoint, params))
