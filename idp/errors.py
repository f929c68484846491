"""Error pages for people, JSON for API clients, 503 when the database is away. Never a trace."""

from __future__ import annotations

import logging

from authlib.integrations.flask_oauth2.errors import _HTTPException as AuthlibHTTPException
from authlib.oauth2.rfc6749 import InsecureTransportError
from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from idp.extensions import db
from idp.messages import message

log = logging.getLogger(__name__)

OIDC_ENDPOINTS = (
    "oidc.authorize",
    "oidc.resume",
    "oidc.token",
    "oidc.userinfo",
    "oidc.revoke",
    "oidc.end_session",
)
API_PATHS = (
    "/healthz",
    "/readyz",
    "/metrics",
    "/token",
    "/userinfo",
    "/revoke",
    "/jwks.json",
    "/.well-known/",
    "/register",
)


def _wants_json() -> bool:
    return request.path.startswith(API_PATHS) or (
        request.accept_mimetypes.best == "application/json"
    )


def _messages() -> dict[int, tuple[str, str]]:
    """Title and what to do next, per status: the parent must know where to go from here."""
    return {
        400: (_("Demande invalide"), _("Revenez à la page précédente et réessayez.")),
        403: (_("Accès refusé"), _("Revenez à la page d'accueil et reconnectez-vous.")),
        404: (_("Page introuvable"), _("Vérifiez l'adresse ou revenez à la page d'accueil.")),
        405: (_("Action impossible"), _("Revenez à la page d'accueil.")),
        413: (_("Envoi trop volumineux"), _("Revenez à la page précédente.")),
        429: (
            _("Trop de tentatives"),
            _("Patientez quelques minutes avant de réessayer."),
        ),
        500: (
            _("Erreur inattendue"),
            _("Réessayez dans quelques minutes. Si cela persiste, contactez l'école."),
        ),
        503: (
            _("Service momentanément indisponible"),
            _("Le service est surchargé ou en maintenance. Réessayez dans quelques minutes."),
        ),
    }


def error_response(status: int, text: str | None = None) -> Response:
    if _wants_json():
        error = {400: "invalid_request", 404: "not_found", 429: "slow_down"}.get(
            status, "server_error" if status >= 500 else "invalid_request"
        )
        response = jsonify(error=error)
    else:
        title, next_step = _messages().get(status, _messages()[400])
        body = render_template(
            "error.html", title=title, message=text, next_step=next_step, status=status
        )
        response = Response(body, mimetype="text/html")
    response.status_code = status
    return response


def _http_error(error: HTTPException) -> Response:
    if isinstance(error, AuthlibHTTPException):
        return error.get_response()  # a bearer-token error: RFC 6750 JSON and WWW-Authenticate
    response = error_response(error.code or 500)
    kept = ("Allow", "Retry-After")  # RFC 9110 §15.5.6 (405) and §10.2.3 (429, 503)
    response.headers.extend(h for h in error.get_headers() if h[0] in kept)
    return response


def _csrf_error(error: CSRFError) -> Response:
    return error_response(400, message("error.form_expired"))


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul_characters() -> Response | None:
    """A NUL character in a parameter is never meant (PostgreSQL refuses it in text): 400.

    The query string is decoded only when its raw bytes could hold one, and the body only when
    it is a form: a GET to userinfo or an SSO redirect parses nothing here (issue 14)."""
    query = request.query_string
    values = [request.path]
    if b"%00" in query or b"\x00" in query:
        values += request.args.values()
    if request.mimetype in FORM_TYPES:
        values += request.form.values()
    if any("\x00" in value for value in values):
        return error_response(400)
    return None


def refuse_json_on_pages() -> Response | None:
    """The pages' forms are HTML forms (contract §4): a JSON body there is a hand-made request.

    Flask-WTF would read a JSON document as the form and fail on anything but an object.
    """
    if request.is_json and not request.path.startswith(API_PATHS):
        return error_response(400)
    return None


def refuse_plain_http() -> Response | None:
    """Under an https issuer, the OIDC endpoints answer only requests that came over https.

    A request arriving over http (a proxy not declared in IDP_TRUSTED_PROXIES, or a bypass of the
    load balancer) gets an OAuth error, never Authlib's InsecureTransportError as a 500.
    """
    if not current_app.config["ISSUER"].startswith("https://") or request.scheme == "https":
        return None
    if request.endpoint not in OIDC_ENDPOINTS and request.blueprint != "registration":
        return None
    return insecure_transport()


def insecure_transport(error: Exception | None = None) -> Response:
    if _wants_json():
        response = jsonify(error="invalid_request", error_description="https is required")
        response.status_code = 400
        return response
    return error_response(400)


def _undecodable(error: UnicodeDecodeError) -> Response:
    """Bytes that are not UTF-8 in a query string or form: only hand-made requests send them."""
    return error_response(400)


def _too_deep(error: RecursionError) -> Response:
    """A hostile document nested deeper than the parsers recurse: a bad request, not a crash."""
    return error_response(400)


def _database_away(error: OperationalError) -> Response:
    log.error("database unavailable: %s", error.orig.__class__.__name__)
    db.session.rollback()
    response = error_response(503)
    response.headers["Retry-After"] = "30"
    return response


def _unexpected(error: InternalServerError) -> Response:
    original = getattr(error, "original_exception", None)
    if isinstance(original, OperationalError):
        return _database_away(original)
    db.session.rollback()
    return error_response(500)


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.before_request(refuse_plain_http)
    app.before_request(refuse_json_on_pages)
    app.register_error_handler(InsecureTransportError, insecure_transport)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(UnicodeDecodeError, _undecodable)
    app.register_error_handler(RecursionError, _too_deep)
    app.register_error_handler(OperationalError, _database_away)
    app.register_error_handler(InternalServerError, _unexpected)
    app.register_error_handler(HTTPException, _http_error)
