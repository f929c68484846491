"""Authlib's grants, with only their hooks filled, and the stricter rules of RFC 9700.

Authlib validates; these classes store, look up and decide. Where Authlib's defaults are looser
than RFC 9700 (OAuth 2.0 Security Best Current Practice), the override says so.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants, scope_to_list
from authlib.oauth2.rfc6749.grants.base import AuthorizationEndpointMixin
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode as _OpenIDCode
from flask import current_app
from sqlalchemy import bindparam, exists, insert, select

from idp.extensions import db
from idp.models import AuthorizationCode, Client, LoginSession
from idp.oidc import claims, redirects, tokens
from idp.oidc.keys import DEFAULT_ALG
from idp.passwords import secret_hash
from idp.sessions import SignedIn

ID_TOKEN_TTL = 3600

# Built once: the authorization endpoint's two statements go to the connection as Core, compiled
# once per process, without the ORM's unit of work (issue 14: most of authorize's CPU was there).
_CODES = AuthorizationCode.__table__
_INSERT_CODE = insert(_CODES)
_SAME_NONCE = (_CODES.c.client_id == bindparam("client_id"), _CODES.c.nonce == bindparam("nonce"))
_NONCE_USED = select(_CODES.c.id).where(*_SAME_NONCE).limit(1)
# The same question as a column, asked with the session's statement (views._signed_in()).
NONCE_USED = exists().where(*_SAME_NONCE).label("nonce_used")


@dataclass(frozen=True)
class Subject:
    """The parent as one client sees them: what a token is issued to."""

    account: tokens.ParentView
    client: Client
    login_session_id: str | None = None  # the sign-in session the grant was made in
    offline: bool = False  # the grant holds `offline_access`: it outlives that session

    def get_user_id(self) -> int:
        return self.account.id


def _subject(
    account: tokens.ParentView,
    client: Client,
    source: tokens.ClaimedCode | tokens.ClaimedRefresh,
) -> Subject | None:
    """Only an active account receives tokens (docs/contract.md §3; activation comes first)."""
    if not account.is_active:
        return None
    offline = "offline_access" in (scope_to_list(source.get_scope()) or [])
    return Subject(account, client, source.login_session_id, offline)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1 with PKCE for every client (RFC 9700 §2.1.1).

    At the authorization endpoint the grant's user is the LoginSession (for `auth_time`); at the
    token endpoint it is the Subject the tokens are issued to.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    @staticmethod
    def validate_authorization_redirect_uri(request, client: Client) -> str:
        # RFC 9700 §2.1 / OIDC Core §3.1.2.1: required and matched exactly, never defaulted.
        if not request.payload.redirect_uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        return AuthorizationEndpointMixin.validate_authorization_redirect_uri(request, client)

    def validate_authorization_request(self) -> str:
        """Validated once: get_consent_grant() already did it for the same grant, whose
        checks (the nonce's included) would otherwise query the database a second time."""
        if self.redirect_uri is not None:
            return self.redirect_uri
        return super().validate_authorization_request()

    def generate_authorization_code(self) -> str:
        """48 URL-safe characters (288 bits) from the OS, in one call rather than Authlib's 48
        draws of random.SystemRandom.choice()."""
        return secrets.token_urlsafe(36)

    def create_authorization_response(self, redirect_uri: str, grant_user):
        """Authlib's, the redirect built by ``redirects.add_params`` (no parse of a plain URI)."""
        if not grant_user:
            return super().create_authorization_response(redirect_uri, grant_user)
        self.request.user = grant_user
        code = self.generate_authorization_code()
        self.save_authorization_code(code, self.request)
        params = [("code", code)]
        if self.request.payload.state:
            params.append(("state", self.request.payload.state))
        return 302, "", [("Location", redirects.add_params(redirect_uri, params))]

    def save_authorization_code(self, code: str, request) -> None:
        """One INSERT on the request's connection; nothing reads the row back here."""
        login_session: SignedIn | LoginSession = request.user
        data = request.payload.data
        db.session.connection().execute(
            _INSERT_CODE,
            {
                "code": secret_hash(code),
                "client_id": request.client.client_id,
                "account_id": login_session.account_id,
                "login_session_id": login_session.id,
                "redirect_uri": request.payload.redirect_uri,
                "response_type": request.payload.response_type,
                "scope": request.scope,
                "nonce": data.get("nonce"),
                "auth_time": int(login_session.auth_time.timestamp()),
                "code_challenge": data.get("code_challenge"),
                "code_challenge_method": data.get("code_challenge_method"),
                "expires_at": int(time.time()) + current_app.config["CODE_TTL"],
                "used_at": None,
            },
        )
        db.session.commit()

    def query_authorization_code(self, code: str, client: Client) -> tokens.ClaimedCode | None:
        # RFC 6749 §4.1.2: a code used twice is refused and what it issued is revoked.
        return tokens.claim_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code: tokens.ClaimedCode) -> None:
        """Kept, marked used by query_authorization_code, so that a replay is recognised."""

    def authenticate_user(self, authorization_code: tokens.ClaimedCode) -> Subject | None:
        # Read with the claim, in its statement: the account with its children, and whether
        # the sign-in session the code was made in has ended since (signed out between the
        # code and its exchange).
        code = authorization_code
        if code.parent is None or code.session_ended:
            return None
        return _subject(code.parent, self.request.client, code)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """RFC 6749 §6 with rotation: every refresh gives a new refresh token, and a spent one
    presented again revokes the whole family (RFC 9700 §4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> tokens.ClaimedRefresh | None:
        # Only the client it was issued to can spend it: another client's try changes nothing.
        return tokens.claim_refresh_token(refresh_token, self.request.client.client_id)

    def authenticate_user(self, refresh_token: tokens.ClaimedRefresh) -> Subject:
        # Read with the claim, as for the code: the account, and whether its sign-in session
        # has ended.
        parent = refresh_token.parent
        subject = (
            _subject(parent, self.request.client, refresh_token) if parent is not None else None
        )
        if subject is None:  # RFC 6749 §5.2: the grant no longer holds
            raise InvalidGrantError("The account is not active.")
        if not subject.offline and refresh_token.session_ended:
            raise InvalidGrantError("The sign-in session has ended.")
        return subject

    def revoke_old_credential(self, refresh_token: tokens.ClaimedRefresh) -> None:
        """Already spent by authenticate_refresh_token, atomically."""


class S256CodeChallenge(CodeChallenge):
    """PKCE required of every client, S256 only (RFC 9700 §2.1.1: no `plain`)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only 'code_challenge_method=S256' is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class OpenIDCode(_OpenIDCode):
    """OpenID Connect Core §3.1: the ID token of the code flow."""

    def exists_nonce(self, nonce: str, request) -> bool:
        known = getattr(request, "nonce_used", None)  # read with the session: views._signed_in()
        if known is not None and known[:2] == (request.payload.client_id, nonce):
            return known[2]
        found = db.session.connection().execute(
            _NONCE_USED, {"client_id": request.payload.client_id, "nonce": nonce}
        )
        return found.first() is not None

    def get_client_algorithm(self, client: Client) -> str:
        return client.id_token_signed_response_alg or DEFAULT_ALG

    def resolve_client_private_key(self, client: Client):
        return current_app.extensions["idp_keys"].signing_key(self.get_client_algorithm(client))

    def get_encode_header(self, client: Client) -> dict:
        key = self.resolve_client_private_key(client)
        return {"alg": self.get_client_algorithm(client), "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict:
        now = int(time.time())
        return {
            "iss": current_app.config["ISSUER"],
            "aud": client.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
        }

    def generate_user_info(self, user: Subject, scope: str):
        info = claims.user_info(user.account.person, user.client, scope)
        if user.login_session_id:  # Back-Channel Logout 1.0 §2.4: `sid` in the ID token
            info["sid"] = claims.session_id(user.login_session_id, user.client)
        return info
