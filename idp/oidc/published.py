"""Discovery and JWKS, answered from prebuilt bytes before Flask's request hooks run.

Every teleservice fetches both documents, and both only change with a deployment (discovery) or
a key rotation (JWKS, seen within a second: idp.oidc.keys). They are public, need no session,
no CSRF check, no rate limit and no database: this WSGI layer answers them with an ETag, lets a
teleservice revalidate its copy (304), and hands every other request to Flask unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask

from idp.oidc import discovery

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/jwks.json"
MAX_AGE = {DISCOVERY_PATH: 300, JWKS_PATH: 60}


class PublishedDocuments:
    """WSGI middleware in front of the Flask application."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._discovery: tuple[bytes, str] | None = None

    def _document(self, path: str) -> tuple[bytes, str]:
        if path == JWKS_PATH:
            keys = self.app.extensions["idp_keys"].current()
            return keys.jwks_body, keys.jwks_etag
        if self._discovery is None:
            with self.app.test_request_context(DISCOVERY_PATH):  # for url_for, once
                self._discovery = discovery.served()
        return self._discovery

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        method = environ.get("REQUEST_METHOD")
        if path not in MAX_AGE or method not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        try:
            body, etag = self._document(path)
        except Exception:  # no keys, say: Flask's view and error pages answer instead
            return self.wsgi_app(environ, start_response)
        quoted = f'"{etag}"'
        headers = [
            ("ETag", quoted),
            ("Cache-Control", f"public, max-age={MAX_AGE[path]}"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        wanted = environ.get("HTTP_IF_NONE_MATCH", "")
        if quoted in (tag.strip() for tag in wanted.split(",")) or wanted.strip() == "*":
            start_response("304 Not Modified", headers)
            return [b""]
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [b"" if method == "HEAD" else body]
