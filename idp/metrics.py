"""Prometheus metrics (prometheus-client): what operators graph and alert on.

prometheus-client rather than prometheus-flask-exporter: the provider needs its own counters
(logins by result, tokens by grant, mails, back-channel deliveries) that other modules increment,
and one small `/metrics` view; the exporter would add a layer for the per-endpoint request
metrics only, which the two hooks below give. With `idp serve --workers N`, set
`PROMETHEUS_MULTIPROC_DIR` to an empty folder before starting: `/metrics` then sums the workers.

Metric objects are module-level (one set per process); any module may increment them:
`metrics.MAILS.labels(state="sent").inc()`.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "idp_http_requests_total", "HTTP requests answered.", ["endpoint", "method", "status"]
)
LATENCY = Histogram("idp_http_request_duration_seconds", "Time to answer a request.", ["endpoint"])
LOGINS = Counter("idp_logins_total", "Sign-in attempts by result.", ["result"])
TOKENS = Counter("idp_tokens_issued_total", "Token responses issued, by grant type.", ["grant"])
# For the outbox / back-channel work (issue 10): created here so every process exports them.
MAILS = Counter("idp_mails_total", "Mails by state: queued, sent, failed.", ["state"])
BACKCHANNEL = Counter(
    "idp_backchannel_logout_deliveries_total",
    "Back-channel logout deliveries by result: sent, failed.",
    ["result"],
)

# Audit events that are sign-in outcomes, and the result label each one counts as.
LOGIN_EVENTS = {
    "login": "success",
    "login_failed": "failure",
    "login_throttled": "throttled",
    "account_locked": "locked",
}


def count_audit_event(event: str) -> None:
    """Called by idp.audit.record: sign-in outcomes are counted from the audit trail's events."""
    result = LOGIN_EVENTS.get(event)
    if result is not None:
        LOGINS.labels(result=result).inc()


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    endpoint = request.endpoint or "unknown"  # a route name, never the raw path (no tokens)
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def exposition() -> Response:
    """The text format, summed over gunicorn's workers when PROMETHEUS_MULTIPROC_DIR is set."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_observe)
