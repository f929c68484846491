"""What the WSGI fast paths (idp.oidc.userinfo_fast, idp.oidc.token_fast) share: the plain
request they take, and the JSON answer they give, with the headers and metrics of Flask's.

A fast path answers one plain success before Flask's request hooks run (issue 14); anything
else, errors included, goes to Flask unchanged. Its answers carry the headers the Flask view's
would: Authlib's JSON headers, then the security headers (idp.web_security sets the same ones;
HSTS under an https issuer). The tests of each fast path compare the two answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from idp import metrics, security_headers

JSON_HEADERS = (
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
)
# Under an https issuer a fast path answers https only (refused_scheme): HSTS always applies.
_HEADERS = {https: (*JSON_HEADERS, *security_headers.for_answer(https)) for https in (False, True)}


class FastPath:
    """WSGI middleware just in front of Flask's own ``wsgi_app``: ``plain()`` picks the requests
    it takes, ``answer()`` gives the JSON body of their success (None: Flask answers)."""

    ENDPOINT = ""  # the Flask endpoint's name, for the same metric labels
    METHOD = ""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        https = self.app.config["ISSUER"].startswith("https://")
        request = self.plain(environ, https)
        if request is not None:
            started = time.perf_counter()
            body = self.answer(environ, request)
            if body is not None:
                return answer_json(start_response, body, https, self.ENDPOINT, self.METHOD, started)
        return self.wsgi_app(environ, start_response)

    def plain(self, environ: dict, https: bool) -> Any:
        raise NotImplementedError

    def answer(self, environ: dict, request: Any) -> bytes | None:
        raise NotImplementedError


def refused_scheme(environ: dict, https_issuer: bool) -> bool:
    """An https issuer answers https only: Flask's views refuse the request (idp.errors)."""
    return https_issuer and environ.get("wsgi.url_scheme") != "https"


def answer_json(
    start_response: Callable,
    body: bytes,
    https_issuer: bool,
    endpoint: str,
    method: str,
    started: float,
) -> Iterable[bytes]:
    """A 200 with ``body``, counted in the metrics under the Flask endpoint's name."""
    headers = list(_HEADERS[https_issuer])
    headers.insert(3, ("Content-Length", str(len(body))))
    metrics.REQUESTS.labels(endpoint, method, "200").inc()
    metrics.LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    start_response("200 OK", headers)
    return [body]


def install(app: Flask, fast_path: Callable[[Flask, Callable], Callable], name: str) -> Callable:
    """Put a fast path just in front of the WSGI application it wraps, behind ProxyFix when
    there is one, so that it sees the scheme the views see; kept in ``app.extensions[name]``."""
    outer = app.wsgi_app
    if isinstance(outer, ProxyFix):
        fast = outer.app = fast_path(app, outer.app)
    else:
        fast = app.wsgi_app = fast_path(app, outer)  # type: ignore[method-assign]
    app.extensions[name] = fast
    return fast
