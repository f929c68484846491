"""The OpenID Connect endpoints: each one call into Authlib, plus the authorization pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import parse_qsl, urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import (
    Blueprint,
    Request,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    session,
    url_for,
)
from flask import request as http_request
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from idp import audit, sessions
from idp.extensions import csrf, db
from idp.messages import message
from idp.models import LoginSession
from idp.oidc import claims, grants, hints, interactions, logout, policy, strictness
from idp.oidc import discovery as discovery_document
from idp.oidc.server import authorization

log = logging.getLogger(__name__)
bp = Blueprint("oidc", __name__)

# Authlib refuses to build an error whose description holds characters RFC 6749 §4.1.2.1 forbids
# (quote, backslash, control, non-ASCII) with this ValueError: the description quoted the request.
HOSTILE_DESCRIPTION = "Error description contains forbidden characters"


def refuses_hostile_text(view: Callable[..., Response]) -> Callable[..., Response]:
    """A request whose error would quote forbidden characters is a plain invalid request (400):
    a page for the browser endpoints, RFC 6749 JSON for the others."""

    @wraps(view)
    def guarded(*args, **kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except ValueError as error:
            if not str(error).startswith(HOSTILE_DESCRIPTION):
                raise
            if http_request.endpoint == "oidc.end_session":
                return _error_page(message("oidc.invalid_logout"))
            if http_request.endpoint in ("oidc.authorize", "oidc.resume"):
                return _error_page(message("oidc.invalid_request"))
            response = jsonify(error="invalid_request")
            response.status_code = 400
            response.headers["Cache-Control"] = "no-store"
            return response

    return guarded


class AuthorizationRequest(OAuth2Request):
    """An authorization request whose parameters are one plain dict, for Authlib to validate.

    Authlib's Flask request reads each parameter through the request proxy and a MultiDict,
    some thirty times per authorization (issue 14). A parameter is never repeated here: the
    live request was refused before if one was, and a stored one was saved from such a request.
    """

    def __init__(
        self, method: str, uri: str, params: dict[str, str], source: Request | None = None
    ) -> None:
        super().__init__(method, uri)
        self.payload = BasicOAuth2Payload(params)
        self._source = source  # the HTTP request, when this is the live one

    @classmethod
    def live(cls, request: Request) -> AuthorizationRequest:
        """The HTTP request's parameters as werkzeug's ``values`` has them: the query, and the
        form unless it is a GET."""
        params = request.args.to_dict()
        if request.method != "GET":
            params.update(request.form.to_dict())
        return cls(request.method, request.url, params, request)

    @classmethod
    def stored(cls, query: str) -> AuthorizationRequest:
        """An authorization request replayed from an Interaction."""
        uri = current_app.config["ISSUER"] + "/authorize?" + query
        return cls("GET", uri, dict(parse_qsl(query)))

    @property
    def args(self):
        return self._source.args if self._source is not None else self.payload.data

    @property
    def form(self):
        return self._source.form if self._source is not None else {}


def _published(body: bytes, etag: str, max_age: int) -> Response:
    """A public document from prebuilt bytes; 304 when the client's copy is current."""
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response.make_conditional(http_request)


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    return _published(*discovery_document.served(), max_age=300)


@bp.get("/jwks.json")
def jwks() -> Response:
    keys = current_app.extensions["idp_keys"].current()
    return _published(keys.jwks_body, keys.jwks_etag, max_age=60)


def _statement_by_statement() -> None:
    """Run this request's statements each in its own transaction (autocommit).

    For requests that read, then write at most one row (an authorization with a live session;
    userinfo reads on a connection of its own, idp.oidc.tokens.find_access_token): on
    PostgreSQL no BEGIN before and no COMMIT or ROLLBACK after, two round trips of the three to
    five such a request costs otherwise.
    """
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt
@refuses_hostile_text
def authorize() -> Response:
    if strictness.repeated_parameter(http_request):  # RFC 6749 §3.1: which one would count?
        return _error_page(
            message("oidc.invalid_request"),
            detail="invalid_request: a parameter is repeated",
        )
    _statement_by_statement()
    return _authorize(AuthorizationRequest.live(http_request._get_current_object()))


@bp.get("/authorize/resume/<interaction_id>")
@refuses_hostile_text
def resume(interaction_id: str) -> Response:
    if session.get("interaction") == interaction_id:
        session.pop("interaction")
    interaction = interactions.take(interaction_id, sessions.browser_id())
    if interaction is None:
        return _error_page(message("oidc.interaction_expired"))
    request = AuthorizationRequest.stored(interaction.query)
    return _authorize(request, waiting_since=interaction.created_at)


def _authorize(request: OAuth2Request, waiting_since=None) -> Response:
    """OIDC Core §3.1.2: validate with Authlib, apply the policy, then issue a code or wait."""
    login_session = _signed_in(request)
    try:
        grant = authorization.get_consent_grant(request, end_user=login_session)
        params = request.payload.data
        for unsupported in ("request", "request_uri"):
            if unsupported in params:  # OIDC Core §6.1, §6.2: refused, never ignored
                raise OAuth2Error(
                    error=f"{unsupported}_not_supported", redirect_uri=grant.redirect_uri
                )
        _check_id_token_hint(params, grant, login_session)
        try:
            requirement = policy.first_unmet(params, login_session, waiting_since)
        except ValueError:
            raise InvalidRequestError(
                "Invalid 'max_age'.", redirect_uri=grant.redirect_uri
            ) from None
        if requirement is not None and "none" in params.get("prompt", "").split():
            raise OAuth2Error(error=requirement.error, redirect_uri=grant.redirect_uri)
    except OAuth2Error as error:
        error.state = request.payload.state
        return _error_response(request, error)
    if requirement is not None:
        return _wait_for(requirement, request, grant.client.client_id)
    # Codes and tokens are not audited one by one (issue 14): sign-ins, failures and changes are.
    return authorization.create_authorization_response(
        request, grant_user=login_session, grant=grant
    )


_SESSION_AND_NONCE = sessions.session_statement(grants.NONCE_USED)


def _signed_in(request: OAuth2Request) -> sessions.SignedIn | LoginSession | None:
    """The live session and, in the same statement, whether the request's nonce was already
    used with its client (OIDC Core §15.5.2): one round trip instead of two, the answer kept on
    the request for OpenIDCode.exists_nonce()."""
    params = request.payload.data
    client_id, nonce = params.get("client_id"), params.get("nonce")
    if not client_id or not nonce:
        return sessions.signed_in()[0]
    login_session, extra = sessions.signed_in(_SESSION_AND_NONCE, client_id=client_id, nonce=nonce)
    if extra:
        request.nonce_used = (client_id, nonce, bool(extra[0]))
    return login_session


def _check_id_token_hint(params, grant, login_session) -> None:
    """OIDC Core §3.1.2.1: a hint must be our ID token for this client (else
    `invalid_request`); it must name the signed-in parent (else `login_required`)."""
    hint = params.get("id_token_hint")
    if hint is None:
        return
    try:
        hinted = hints.verify_id_token_hint(hint, grant.client.client_id)
    except hints.InvalidHint:
        raise InvalidRequestError(
            "Invalid 'id_token_hint'.", redirect_uri=grant.redirect_uri
        ) from None
    if login_session is not None and not claims.is_subject(
        hinted["sub"], login_session.account, grant.client
    ):
        raise OAuth2Error(
            error="login_required",
            description="The 'id_token_hint' names another user.",
            redirect_uri=grant.redirect_uri,
        )


def _wait_for(requirement: policy.Requirement, request: OAuth2Request, client_id: str):
    """Save the request as an Interaction and send the parent to the step that meets it."""
    query = urlencode([(k, v) for k, values in request.payload.datalist.items() for v in values])
    interaction = interactions.save(query, client_id, sessions.browser_id())
    session["interaction"] = interaction.id
    params = request.payload.data
    locales = params.get("ui_locales")
    if locales:
        session["ui_locales"] = locales
    if requirement is policy.ACTIVATION:
        return redirect(_url("activation.required"))
    hint = params.get("login_hint") or None
    fresh = requirement is policy.FRESH_SIGN_IN or None
    return redirect(_url("login.login", login_hint=hint, fresh=fresh and "1"))


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, **{k: v for k, v in values.items() if v is not None})


def _error_response(request: OAuth2Request, error: OAuth2Error) -> Response:
    """RFC 6749 §4.1.2.1: to the client only once client and redirect_uri are verified.

    The callback gets the error code without a description: Authlib's descriptions quote the
    request, and no attacker-chosen text is carried to a teleservice's page.
    """
    if error.redirect_uri:
        error.description = None
        response = authorization.handle_error_response(request, error)
        response.location = add_params_to_uri(
            response.location, {"iss": current_app.config["ISSUER"]}
        )
        return response
    return _error_page(
        message("oidc.invalid_request"),
        detail=f"{error.error}: {error.description or ''}",
    )


def _error_page(message: str, detail: str | None = None) -> Response:
    """The parent reads plain French; the technical detail goes to the log, for the operator."""
    if detail:
        log.info("refused request shown to a person: %s", detail)
    body = render_template("oidc/error.html", message=message)
    return Response(body, status=400)


@bp.post("/token")
@csrf.exempt
@refuses_hostile_text
def token() -> Response:
    refused = strictness.check_token_request(http_request)
    if refused is not None:
        return refused
    response = authorization.create_token_response()
    db.session.commit()  # the one transaction: the claim (even refused) and the new tokens
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
@refuses_hostile_text
def userinfo() -> Response:
    refused = strictness.no_token_at_all(http_request)
    if refused is not None:
        return refused
    return authorization.create_endpoint_response("userinfo")  # one statement, on its own


@bp.post("/revoke")
@csrf.exempt
@refuses_hostile_text
def revoke() -> Response:
    refused = strictness.check_token_request(http_request)
    return refused or authorization.create_endpoint_response("revocation")


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt
@refuses_hostile_text
def end_session() -> Response:
    """RP-Initiated Logout 1.0: the parent confirms, on a page naming the teleservices that
    will be signed out, unless the teleservice sent a valid id_token_hint for the signed-in
    parent and a registered post_logout_redirect_uri (§2, §6)."""
    try:
        end_request = authorization.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return _error_page(message("oidc.invalid_logout"), detail=error.error)
    login_session = sessions.current_session()
    if login_session is not None and not _silent(end_request, login_session) and not _confirmed():
        names = logout.client_names(login_session)
        page = render_template(
            "oidc/logout_confirm.html", teleservices=names, params=logout.passed_on(end_request)
        )
        return Response(page, status=200)
    account = login_session.account if login_session is not None else None
    response = authorization.create_endpoint_response("end_session", end_request)
    if account is not None:
        audit.record("signed_out", account=account, client=end_request.client)
    return response or Response(render_template("oidc/logged_out.html"))


def _silent(end_request, login_session) -> bool:
    """No confirmation: a valid hint for this parent and a registered redirect URI."""
    hinted = end_request.id_token_claims
    client = end_request.client
    return bool(
        hinted
        and client is not None
        and end_request.redirect_uri
        and claims.is_subject(hinted["sub"], login_session.account, client)
    )


def _confirmed() -> bool:
    """The parent pressed "Se déconnecter" on our own page (a POST with our CSRF token)."""
    if http_request.method != "POST":
        return False
    try:
        validate_csrf(http_request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True
