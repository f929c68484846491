"""Userinfo's plain success, answered before Flask's request hooks run (issue 14).

Every teleservice page may cost a userinfo call, and most are the same request: a teleservice's
back end (no cookie) sends `GET /userinfo` with `Authorization: Bearer <a valid token>`. For that
request Flask's hooks (session, CSRF, limits, gate, security headers) and Authlib's resource
protector decide nothing: this WSGI layer answers it from one SELECT
(idp.oidc.tokens.find_access_token) with the same claims builder (idp.oidc.claims), the same
body, headers and metrics as the Flask view.

Anything else goes to Flask unchanged, so that every error stays RFC 6750-exact: another method,
a query or a body, a cookie, another scheme or spelling of the header, a token that is unknown,
expired, revoked, of an inactive parent or a removed client, without `openid`, for a client that
wants signed userinfo. What was read (or the database error met) is handed on in the WSGI
environment: the view does not read the token again (still one statement), or answers the error
as its handlers do (503 with Retry-After).
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from idp.oidc import claims, fast_answers, tokens
from idp.oidc.fast_answers import refused_scheme

PATH = "/userinfo"
ENDPOINT = "oidc.userinfo"  # the Flask endpoint's name, for the same metric labels
# What was read for the token (its value, then the AccessToken or None), for the Flask view.
HANDED_ON = "idp.userinfo.access_token"
# RFC 6750 §2.1's b64token, in the one spelling the fast path takes; longer ones go to Flask.
BEARER = re.compile(r"Bearer ([A-Za-z0-9\-._~+/]{1,256}=*)")


class FastUserinfo(fast_answers.FastPath):
    ENDPOINT = ENDPOINT
    METHOD = "GET"

    def plain(self, environ: dict, https: bool) -> str | None:
        """The token of a plain userinfo request, or None: Flask answers every other request."""
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or environ.get("HTTP_COOKIE")
            or environ.get("CONTENT_TYPE")
            or environ.get("CONTENT_LENGTH") not in (None, "", "0")
            or "HTTP_TRANSFER_ENCODING" in environ
            or refused_scheme(environ, https)
        ):
            return None
        match = BEARER.fullmatch(environ.get("HTTP_AUTHORIZATION", ""))
        return match.group(1) if match else None

    def answer(self, environ: dict, value: str) -> bytes | None:
        """The JSON body for a valid token, or None (what was read is then handed on)."""
        with self.app.app_context():
            try:
                token = tokens.find_access_token(value)
                client = token.get_client() if token is not None else None
            except SQLAlchemyError as error:  # the view raises it: its error handlers answer
                environ[HANDED_ON] = (value, error)
                return None
            environ[HANDED_ON] = (value, token)
            if (
                token is None
                or client is None
                or token.is_expired()
                or token.is_revoked()
                or not token.account_active
                or "openid" not in token.scope.split()
                or client.client_metadata.get("userinfo_signed_response_alg")
            ):
                return None
            info = claims.user_info(token.person, client, token.scope)
            return self.app.json.dumps(info).encode()


def handed_on(value: str, environ: dict) -> tuple[bool, tokens.AccessToken | None]:
    """Whether the fast path already read this token, and what it read; the database error it
    met is raised again, so that a dead connection still costs one 503 (idp.errors)."""
    read = environ.get(HANDED_ON)
    if read is None or read[0] != value:
        return False, None
    if isinstance(read[1], SQLAlchemyError):
        raise read[1]
    return True, read[1]


def install(app: Flask) -> FastUserinfo:
    return fast_answers.install(app, FastUserinfo, "idp_userinfo_fast")
