"""RFC 6749 and RFC 6750 rules Authlib leaves to the application, checked before it runs.

- §3.1, §3.2: a parameter is never given twice (`code=a&code=b`): which one would count?
- §2.3: a client authenticates one way per request (never Basic *and* a secret in the body).
- RFC 6750 §3.1: a request with no token at all gets a bare `WWW-Authenticate: Bearer`, no error
  code (the client did not try; `missing_authorization` is not an RFC error).
"""

from __future__ import annotations

from flask import Request, Response, jsonify

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BODY_CREDENTIALS = ("client_secret", "client_assertion", "client_assertion_type")


def repeated_parameter(request: Request) -> str | None:
    """The name of a parameter given more than once, in the query or the form, or None."""
    for source in (request.args, request.form):
        for name in source:
            if len(source.getlist(name)) > 1:
                return name
    if set(request.args) & set(request.form):
        return next(iter(set(request.args) & set(request.form)))
    return None


def several_client_methods(request: Request) -> bool:
    """HTTP Basic and credentials in the body at once (RFC 6749 §2.3)."""
    basic = request.headers.get("Authorization", "").lower().startswith("basic ")
    return basic and any(name in request.form for name in BODY_CREDENTIALS)


def malformed_authorization(request: Request) -> bool:
    """An Authorization header with a scheme and no credentials (`Bearer `): Authlib's parsers
    split it in two and fail, so it is answered here."""
    value = request.headers.get("Authorization")
    return value is not None and len(value.split(None, 1)) < 2


def invalid_client() -> Response:
    response = jsonify(error="invalid_client")
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Basic error="invalid_client"'
    response.headers.update(NO_STORE)
    return response


def invalid_request(description: str) -> Response:
    response = jsonify(error="invalid_request", error_description=description)
    response.status_code = 400
    response.headers.update(NO_STORE)
    return response


def check_token_request(request: Request) -> Response | None:
    """The JSON error for a token or revocation request that breaks §3.2 or §2.3, or None."""
    if malformed_authorization(request):
        return invalid_client()
    if repeated_parameter(request):
        return invalid_request("A parameter is repeated.")
    if several_client_methods(request):
        return invalid_request("More than one client authentication method.")
    return None


def no_token_at_all(request: Request) -> Response | None:
    """RFC 6750 §3.1: 401 with `WWW-Authenticate: Bearer` and nothing else, when nothing was
    presented; None when the request carries a token somewhere (Authlib judges it)."""
    if malformed_authorization(request):
        response = invalid_request("Malformed Authorization header.")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_request"'
        return response
    if request.headers.get("Authorization") or "access_token" in request.values:
        return None
    response = Response(status=401)
    response.headers["WWW-Authenticate"] = "Bearer"
    response.headers.update(NO_STORE)
    return response
