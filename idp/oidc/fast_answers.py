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

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from idp import metrics
from idp.security_headers import HSTS, SECURITY_HEADERS

JSON_HEADERS = (
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
)
_HEADERS = {
    False: (*JSON_HEADERS, *SECURITY_HEADERS),
    True: (*JSON_HEADERS, *SECURITY_HEADERS, HSTS),
}


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
