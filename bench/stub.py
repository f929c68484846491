"""The ceiling of `make bench`: a stub provider doing the least any Python provider could.

A bare WSGI application (no Flask, no Authlib, no checks), served by the same gunicorn
settings as the provider, that the load driver accepts as an OpenID provider: /authorize
answers with a code straight away, /token signs an RS256 ID token (the only cryptography the
driver requires) and /userinfo sends the one statement the query budget allows (the provider's
own SELECT of a token with its parent and children, on the provider's database, by psycopg or
sqlite3). The stub's rates, next to node-oidc-provider's, tell what this machine allows a
Python provider under gunicorn: a target above the stub's ratio cannot be met here.

Not a provider: the code is the nonce, nothing is stored or checked.
"""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from idp.oidc import tokens


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


class Userinfo:
    """The provider's userinfo SELECT, on one connection per thread, for one live token."""

    def __init__(self, database_url: str) -> None:
        engine = create_engine(database_url)
        self.postgresql = engine.dialect.name == "postgresql"
        self.sql = str(tokens._ACCESS_TOKEN.compile(dialect=engine.dialect))
        with engine.connect() as connection:
            hashed = connection.execute(text("SELECT access_token FROM token LIMIT 1")).scalar()
        engine.dispose()
        self.params: dict | tuple = {"hashed": hashed}
        url = make_url(database_url)
        self.connect: Callable[[], object]
        if self.postgresql:
            import psycopg

            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connect = lambda: psycopg.connect(dsn, autocommit=True)
        else:  # qmark: the one parameter, by position
            self.params = (hashed,)
            self.connect = lambda: sqlite3.connect(url.database, check_same_thread=False)
        self.local = threading.local()

    def rows(self) -> list:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = self.connect()
        return connection.execute(self.sql, self.params).fetchall()


def make_app(issuer: str, database_url: str) -> Callable:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = _b64(json.dumps({"alg": "RS256", "kid": "stub", "typ": "JWT"}).encode())
    endpoints = {name: f"{issuer}/{name}" for name in ("authorize", "token", "userinfo")}
    discovery = json.dumps(
        {
            "issuer": issuer,
            "authorization_endpoint": endpoints["authorize"],
            "token_endpoint": endpoints["token"],
            "userinfo_endpoint": endpoints["userinfo"],
        }
    ).encode()
    userinfo = Userinfo(database_url)

    def token(environ: dict) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        answer = {
            "access_token": secrets.token_urlsafe(32),
            "refresh_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": 3600,
        }
        if form.get("grant_type") == "authorization_code":
            now = int(time.time())
            basic = environ.get("HTTP_AUTHORIZATION", "")[6:]
            client_id = base64.b64decode(basic).decode().partition(":")[0]
            claims = {"iss": issuer, "aud": client_id, "sub": "stub", "nonce": form["code"]}
            signed = header + b"." + _b64(json.dumps({**claims, "iat": now}).encode())
            signature = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
            answer["id_token"] = (signed + b"." + _b64(signature)).decode()
        return json.dumps(answer).encode()

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/authorize":
            query = dict(parse_qsl(environ["QUERY_STRING"]))
            answer = urlencode({"code": query["nonce"], "state": query["state"]})
            start_response("302 Found", [("Location", f"{query['redirect_uri']}?{answer}")])
            return [b""]
        if path == "/token":
            body = token(environ)
        elif path == "/userinfo":
            body = json.dumps({"sub": "stub", "rows": len(userinfo.rows())}).encode()
        else:
            body = discovery
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [body]

    return app
