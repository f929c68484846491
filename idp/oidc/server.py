"""The Authlib authorization server and resource protector, and init_oidc() that binds them."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import InvalidRequestError, UnsupportedResponseTypeError
from authlib.oauth2.rfc6750 import BearerTokenValidator as _BearerTokenValidator
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter as _IssuerParameter
from authlib.oidc.core import UserInfoEndpoint as _UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint as _EndSessionEndpoint
from flask import Flask, current_app
from flask import request as flask_request
from werkzeug.local import LocalProxy

from idp import sessions
from idp.models import Client, Token
from idp.oidc import claims, hints, redirects, token_fast, tokens, userinfo_fast
from idp.oidc.clients import cache as client_cache
from idp.oidc.grants import (
    AuthorizationCodeGrant,
    OpenIDCode,
    RefreshTokenGrant,
    S256CodeChallenge,
)
from idp.oidc.keys import DEFAULT_ALG, KeyStore

SCOPES = ["openid", "profile", "email", "children", "offline_access"]


def query_client(client_id: str) -> Client | None:
    """The client, from this process's cache (idp.oidc.clients.cache): read, never changed."""
    return client_cache.get(client_id)


def save_token(token: dict, request) -> None:
    source = request.authorization_code or request.refresh_token
    grant_type = request.payload.grant_type
    tokens.save_token(token, grant_type, request.client.client_id, request.user, source.family)


class BearerTokenValidator(_BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> tokens.AccessToken | None:
        read, token = userinfo_fast.handed_on(token_string, flask_request.environ)
        return token if read else tokens.find_access_token(token_string)

    def validate_token(self, token: tokens.AccessToken | None, scopes, request) -> None:
        super().validate_token(token, scopes, request)
        if not token.account_active or token.get_client() is None:  # a removed client's too
            raise InvalidTokenError(realm=self.realm)


class RevocationEndpoint(_RevocationEndpoint):
    """RFC 7009."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        # RFC 7009 §2.1: a hint that turns out wrong extends the search to every kind.
        return tokens.find_token(token_string, token_type_hint) or tokens.find_token(token_string)

    def revoke_token(self, token: Token, request) -> None:
        tokens.revoke_token(token, request.form["token"])


class UserInfoEndpoint(_UserInfoEndpoint):
    """OpenID Connect Core §5.3: the same claims as the ID token, for the token's scopes."""

    def get_issuer(self) -> str:
        return current_app.config["ISSUER"]

    def create_endpoint_request(self, request) -> None:
        """None: userinfo reads only the bearer token, which the resource protector takes from
        the Flask request itself; an OAuth2Request built here would go unused."""
        return None

    def generate_user_info(self, user: claims.Person, scope: str):
        return claims.user_info(user, current_token.get_client(), scope)

    def resolve_private_key(self):
        return current_app.extensions["idp_keys"].signing_key(DEFAULT_ALG)


class EndSessionEndpoint(_EndSessionEndpoint):
    """OpenID Connect RP-Initiated Logout 1.0."""

    def get_server_jwks(self) -> dict:
        return current_app.extensions["idp_keys"].public_jwks()

    def _validate_id_token_hint(self, id_token_hint: str) -> dict:
        """§2: our own ID token, checked as at /authorize (iss, our keys and algorithms)."""
        try:
            return hints.verify_id_token_hint(id_token_hint)
        except hints.InvalidHint as error:
            raise InvalidRequestError(f"Invalid 'id_token_hint': {error}.") from None

    def end_session(self, end_session_request) -> None:
        sessions.sign_out()


class IssuerParameter(_IssuerParameter):
    """RFC 9207: `iss` in every authorization response, errors included."""

    def get_issuer(self) -> str:
        return current_app.config["ISSUER"]

    def add_issuer_parameter(self, authorization_server, response) -> None:
        """Authlib's, without parsing again the query Authlib or the grant just encoded."""
        if response.location:
            response.location = redirects.add_to_query(
                response.location, [("iss", self.get_issuer())]
            )


class OIDCServer(AuthorizationServer):
    """Authlib's Flask server, also taking an already-built request (a resumed Interaction)."""

    def create_oauth2_request(self, request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def get_authorization_grant(self, request: OAuth2Request):
        """Authlib sends an unsupported response_type's error to the client's *first* redirect
        URI when the request has none; here, as everywhere, a missing one is never defaulted."""
        try:
            return super().get_authorization_grant(request)
        except UnsupportedResponseTypeError as error:
            if not request.payload.redirect_uri:
                error.redirect_uri = None
            raise


def _server() -> OIDCServer:
    return current_app.extensions["idp_oauth"]


def _protector() -> ResourceProtector:
    return current_app.extensions["idp_resource"]


# The current application's server and protector (one per application, none at module level).
authorization: OIDCServer = LocalProxy(_server)  # type: ignore[assignment]
require_oauth: ResourceProtector = LocalProxy(_protector)  # type: ignore[assignment]


def init_oidc(app: Flask) -> None:
    from idp.oidc import session_clients  # noqa: F401 (connects its subscribers)

    ttl = app.config["ACCESS_TOKEN_TTL"]
    app.config.update(
        OAUTH2_SCOPES_SUPPORTED=SCOPES,
        OAUTH2_ACCESS_TOKEN_GENERATOR=tokens.new_token,
        OAUTH2_REFRESH_TOKEN_GENERATOR=tokens.new_token,
        OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": ttl, "refresh_token": ttl},
    )
    protector = ResourceProtector()
    protector.register_token_validator(BearerTokenValidator())
    server = OIDCServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(
        AuthorizationCodeGrant, [S256CodeChallenge(required=True), OpenIDCode(require_nonce=False)]
    )
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(UserInfoEndpoint(resource_protector=protector))
    server.register_endpoint(EndSessionEndpoint)
    server.register_extension(IssuerParameter())
    userinfo_fast.install(app)  # the plain success of userinfo, before Flask's hooks
    token_fast.install(app)  # and the plain code exchange or refresh
    app.extensions.update(
        idp_keys=KeyStore(app.config["KEYS_DIR"]), idp_oauth=server, idp_resource=protector
    )
