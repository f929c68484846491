"""Probes and metrics for operators (contract §4 "Operations"): /healthz, /readyz, /metrics.

`/healthz` says the process serves (a load balancer restarts it otherwise); `/readyz` says it
can do its work: the database answers, the signing keys load, Redis answers when configured.
None of them needs a session, a CSRF token or a cookie.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from idp import metrics
from idp.extensions import db

bp = Blueprint("operations", __name__)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    return _no_store(jsonify(status="ok"))


def _database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"; the name is reported
        db.session.rollback()
        return False


def _keys() -> bool:
    try:
        current_app.extensions["idp_keys"].signing_key()
        return True
    except Exception:  # noqa: BLE001
        return False


def _redis() -> bool:
    import redis

    try:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2)
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False


@bp.get("/readyz")
def readyz() -> Response:
    checks = {"database": _database(), "keys": _keys()}
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _redis()
    failing = sorted(name for name, ok in checks.items() if not ok)
    if failing:
        response = jsonify(status="unavailable", failing=failing, checks=checks)
        response.status_code = 503
    else:
        response = jsonify(status="ready", checks=checks)
    return _no_store(response)


@bp.get("/metrics")
def prometheus() -> Response:
    return _no_store(metrics.exposition())
