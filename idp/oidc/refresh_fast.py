"""The token endpoint's plain refresh, answered before Flask's request hooks run (issue 14).

A teleservice's back end refreshes its tokens all day long, always with the same request:
`POST /token`, HTTP Basic client authentication, and a form of exactly
`grant_type=refresh_token&refresh_token=…`. For that request Flask's hooks decide nothing and
Authlib's dispatch cost more than the work itself: this WSGI layer authenticates the client from
the per-process cache, spends the refresh token and stores the new tokens in one transaction,
with the functions the grant uses (idp.oidc.tokens, idp.oidc.grants), and answers the JSON
Authlib would, with the same headers and metrics.

It commits only a success. Anything else goes to Flask unchanged, after a rollback when the
database was read: another grant or another parameter, client_secret_post, a cookie, an
escaped character, an unknown client or a wrong secret, a refresh token that is spent, expired,
another client's or of an ended sign-in session, a database error. Flask and Authlib then give
the RFC 6749 answer they always gave (and revoke the family of a replayed token).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from authlib.oauth2 import OAuth2Error
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from idp import lone_statements
from idp.extensions import db
from idp.oidc import fast_answers, grants, tokens
from idp.oidc.clients import cache as client_cache
from idp.oidc.fast_answers import answer_json, refused_scheme

PATH = "/token"
ENDPOINT = "oidc.token"  # the Flask endpoint's name, for the same metric labels
GRANT = "refresh_token"
MAX_BODY = 1024
# Client ids, secrets and refresh tokens of ours, unescaped (RFC 6749 §2.3.1 form-encodes the
# Basic credentials: anything with an escape goes to Authlib, which decodes it).
PLAIN = re.compile(r"[A-Za-z0-9\-._~]{1,256}")


class FastRefresh:
    """WSGI middleware just in front of Flask's own ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        https = self.app.config["ISSUER"].startswith("https://")
        request = self._plain_refresh(environ, https)
        if request is not None:
            started = time.perf_counter()
            body = self._answer(*request)
            if body is not None:
                return answer_json(start_response, body, https, ENDPOINT, "POST", started)
        return self.wsgi_app(environ, start_response)

    def _plain_refresh(self, environ: dict, https: bool) -> tuple[str, str, str] | None:
        """(client id, secret, refresh token) of a plain refresh, or None: Flask answers."""
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
        refresh_token = _refresh_token(body)
        return None if refresh_token is None else (*credentials, refresh_token)

    def _answer(self, client_id: str, secret: str, refresh_token: str) -> bytes | None:
        """The JSON body of the new tokens, committed; None (nothing changed) otherwise."""
        with self.app.app_context():
            client = client_cache.get(client_id)
            if (
                client is None
                or not client.check_endpoint_auth_method("client_secret_basic", "token")
                or not client.check_client_secret(secret)
                or not client.check_grant_type(GRANT)
            ):
                return None
            try:
                body = self._rotate(client, refresh_token)
            except (OAuth2Error, SQLAlchemyError):
                body = None
            if body is None:
                db.session.rollback()
            return body

    def _rotate(self, client, refresh_token: str) -> bytes | None:
        """RFC 6749 §6 as idp.oidc.grants.RefreshTokenGrant does it, rotation included."""
        if lone_statements.on_postgresql():  # one statement: tokens.ROTATION_SQL
            token = tokens.rotate_refresh_token(refresh_token, client)
            if token is None:
                return None
        else:
            claimed = tokens.claim_refresh_token(refresh_token, client.client_id)
            if claimed is None:
                return None
            subject = grants.refresh_subject(claimed, client)  # OAuth2Error: invalid_grant
            token = self.app.extensions["idp_oauth"].generate_token(
                grant_type=GRANT, client=client, user=subject, scope=claimed.get_scope()
            )
            tokens.save_token(token, GRANT, client.client_id, subject, claimed.family)
            db.session.commit()
        return self.app.json.dumps(token).encode()  # as Authlib's Flask integration encodes it


def _basic_credentials(header: str) -> tuple[str, str] | None:
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


def _refresh_token(body: bytes) -> str | None:
    """The refresh token of a form holding exactly grant_type=refresh_token and it."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    if len(pairs) != 2 or form.keys() != {"grant_type", "refresh_token"}:
        return None
    if form["grant_type"] != GRANT or not PLAIN.fullmatch(form["refresh_token"]):
        return None
    return form["refresh_token"]


def install(app: Flask) -> FastRefresh:
    return fast_answers.install(app, FastRefresh, "idp_refresh_fast")
