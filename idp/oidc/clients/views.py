"""Dynamic Client Registration (RFC 7591, OpenID Connect Dynamic Client Registration 1.0) at
``/register`` and client configuration (RFC 7592) at ``/register/<client_id>``.

A small blueprint rather than Authlib's ClientRegistrationEndpoint / ClientConfigurationEndpoint:
those build the response before the client is saved (so a secret made by the shared
``register_client`` rules could not be returned), validate with their own claims classes, and
answer a missing token with 403 `access_denied`. Here each view calls one function of
``idp.oidc.clients.registration``, whose metadata checks are the CLI's own.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, url_for
from flask import request as http_request
from werkzeug.exceptions import BadRequest

from idp.extensions import csrf
from idp.oidc.clients import ClientError, registration
from idp.oidc.clients.registration import Registration

bp = Blueprint("registration", __name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _bearer() -> str | None:
    """The token of `Authorization: Bearer <token>` (RFC 6750 §2.1), or None."""
    scheme, _, token = http_request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _body() -> Any:
    """The JSON document sent, or None when the body is not JSON (refused as metadata).

    A document nested deeper than Python's parser recurses (`[[[[…]]]]`) is a bad request,
    whoever sends it (400 JSON, before the token is looked at).
    """
    try:
        return http_request.get_json(force=True, silent=True)
    except RecursionError:
        raise BadRequest() from None


def _information(done: Registration, status: int) -> Response:
    """RFC 7591 §3.2.1 and RFC 7592 §3: the metadata, the credentials, where to manage it."""
    client = done.client
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": client.client_id_issued_at,
        "client_secret_expires_at": 0,
        **client.client_metadata,
    }
    if done.client_secret:
        body["client_secret"] = done.client_secret
    body["registration_access_token"] = done.access_token
    body["registration_client_uri"] = current_app.config["ISSUER"] + url_for(
        "registration.read", client_id=client.client_id
    )
    response = jsonify(body)
    response.status_code = status
    response.headers.update(NO_STORE)
    return response


@bp.post("/register")
@csrf.exempt
def register() -> Response:
    """RFC 7591 §3.1: register with an initial access token; 201 with the client's credentials."""
    return _information(registration.register(_bearer(), _body()), 201)


@bp.get("/register/<client_id>")
def read(client_id: str) -> Response:
    """RFC 7592 §2.1."""
    return _information(registration.read(client_id, _bearer()), 200)


@bp.put("/register/<client_id>")
@csrf.exempt
def update(client_id: str) -> Response:
    """RFC 7592 §2.2."""
    return _information(registration.update_client(client_id, _bearer(), _body()), 200)


@bp.delete("/register/<client_id>")
@csrf.exempt
def delete(client_id: str) -> Response:
    """RFC 7592 §2.3: 204, and nothing the client held works any more."""
    registration.delete_client(client_id, _bearer())
    return Response(status=204, headers=NO_STORE)


@bp.errorhandler(ClientError)
def refused(error: ClientError) -> Response:
    """RFC 7591 §3.2.2 errors; a refused token as RFC 6750 §3.1 says, with WWW-Authenticate."""
    status = getattr(error, "status", 400)
    code = getattr(error, "error", "invalid_client_metadata")
    response = jsonify(error=code, error_description=str(error))
    response.status_code = status
    response.headers.update(NO_STORE)
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{code}"'
    return response
