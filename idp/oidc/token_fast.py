"""The token endpoint's plain requests, answered before Flask's request hooks run (issue 14).

Every sign-in to a teleservice ends with a code exchange, and its back end refreshes its tokens
all day long, always with the same requests: `POST /token`, HTTP Basic client authentication,
and a form of exactly `grant_type=authorization_code`, `code`, `redirect_uri` and
`code_verifier`, or `grant_type=refresh_token` and `refresh_token`. For those Flask's hooks
decide nothing (no cookie, no CSRF token, no rate limit, no page): this WSGI layer hands them
to Authlib's authorization server as a plain OAuth2Request, in an application context, and
commits only its success. On PostgreSQL a plain refresh is one statement instead
(tokens.rotate_refresh_token). The JSON, headers and metrics are the view's.

Anything else goes to Flask unchanged, after a rollback when something was read or written:
another parameter or grant, client_secret_post, a cookie, an escaped character in the
credentials, a wrong secret, a spent, expired or refused code or token, a database error.
Flask and Authlib then give the RFC 6749 answer they always gave (and spend the code, or
revoke a replayed token's family, as they always did).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from urllib.parse import parse_qsl

from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Flask
from werkzeug.wsgi import get_current_url

from idp import lone_statements
from idp.extensions import db
from idp.oidc import fast_answers, tokens
from idp.oidc.clients import cache as client_cache
from idp.oidc.fast_answers import refused_scheme

PATH = "/token"
ENDPOINT = "oidc.token"  # the Flask endpoint's name, for the same metric labels
MAX_BODY = 2048
# Client ids, secrets, codes, verifiers and refresh tokens of ours, unescaped (RFC 6749
# §2.3.1 form-encodes the Basic credentials: anything with an escape goes to Authlib).
PLAIN = re.compile(r"[A-Za-z0-9\-._~]{1,256}")
PRINTABLE = re.compile(r"[\x21-\x7e]{1,2000}")
# The members of each plain form, and the ones whose values must be PLAIN.
FORMS = {
    "authorization_code": ({"grant_type", "code", "redirect_uri", "code_verifier"}, ("code",)),
    "refresh_token": ({"grant_type", "refresh_token"}, ("refresh_token",)),
}


class TokenRequest(OAuth2Request):
    """A token request as Authlib's grants read it: the form as one plain dict (no parameter
    is repeated in a plain request) and the Authorization header."""

    def __init__(self, uri: str, form: dict[str, str], authorization: str) -> None:
        super().__init__("POST", uri, headers={"Authorization": authorization})
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data

    @property
    def args(self) -> dict[str, str]:
        return {}


Credentials = tuple[str, str]  # client id and secret, from HTTP Basic


class FastToken(fast_answers.FastPath):
    ENDPOINT = ENDPOINT
    METHOD = "POST"

    def plain(self, environ: dict, https: bool) -> tuple[dict[str, str], Credentials] | None:
        """The form and credentials of a plain token request, or None: Flask answers."""
        length = environ.get("CONTENT_LENGTH") or ""
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("QUERY_STRING")
            or environ.get("HTTP_COOKIE")
            or environ.get("CONTENT_TYPE") != "application/x-www-form-urlencoded"
            or "HTTP_TRANSFER_ENCODING" in environ
            or not length.isdigit()
            or int(length) > MAX_BODY
            or refused_scheme(environ, https)
        ):
            return None
        credentials = _basic_credentials(environ.get("HTTP_AUTHORIZATION", ""))
        if credentials is None:
            return None
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)  # for Flask, if it answers after all
        form = _plain(body)
        return None if form is None else (form, credentials)

    def answer(self, environ: dict, request: tuple[dict[str, str], Credentials]) -> bytes | None:
        """The JSON body of the new tokens, committed; None (nothing changed) otherwise."""
        form, credentials = request
        with self.app.app_context():
            try:
                if form["grant_type"] == "refresh_token" and lone_statements.on_postgresql():
                    body = self._rotate(credentials, form["refresh_token"])
                else:
                    authorization = environ["HTTP_AUTHORIZATION"]
                    body = self._grant(TokenRequest(get_current_url(environ), form, authorization))
            except Exception:  # a database error, a description Authlib refuses to build...
                body = None  # Flask answers, with its error handlers if it meets the same
            if body is None:
                db.session.rollback()
            return body

    def _grant(self, request: TokenRequest) -> bytes | None:
        """Authlib's token endpoint, as the Flask view runs it (which then commits)."""
        response = self.app.extensions["idp_oauth"].create_token_response(request)
        if response.status_code != 200:
            return None
        db.session.commit()
        return response.get_data()

    def _rotate(self, credentials: Credentials, refresh_token: str) -> bytes | None:
        """PostgreSQL: the refresh in one statement, for a client authenticated as Authlib's
        client_secret_basic does (the per-process cache, the keyed hash of the secret)."""
        client_id, secret = credentials
        client = client_cache.get(client_id)
        if (
            client is None
            or not client.check_endpoint_auth_method("client_secret_basic", "token")
            or not client.check_client_secret(secret)
            or not client.check_grant_type("refresh_token")
        ):
            return None
        token = tokens.rotate_refresh_token(refresh_token, client)
        if token is None:
            return None
        return self.app.json.dumps(token).encode()  # as Authlib's Flask integration encodes it


def _basic_credentials(header: str) -> Credentials | None:
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not PLAIN.fullmatch(client_id) or not PLAIN.fullmatch(secret):
        return None
    return client_id, secret


def _plain(body: bytes) -> dict[str, str] | None:
    """The form, if it is exactly one of FORMS, each member once, in the expected alphabet."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    expected = FORMS.get(form.get("grant_type", ""))
    if expected is None or len(pairs) != len(expected[0]) or form.keys() != expected[0]:
        return None
    if not all(PRINTABLE.fullmatch(value) for value in form.values()):
        return None
    if not all(PLAIN.fullmatch(form[name]) for name in expected[1]):
        return None
    return form


def install(app: Flask) -> FastToken:
    return fast_answers.install(app, FastToken, "idp_token_fast")
