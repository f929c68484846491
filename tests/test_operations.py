"""/healthz, /readyz and /metrics for operators (contract §4 "Operations")."""

from __future__ import annotations

import os
import re

import pytest

from tests.test_error_pages import UNREACHABLE_DATABASE

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL")


def test_healthz_answers_while_the_process_serves(browser):
    response = browser.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_when_database_and_keys_answer(browser):
    response = browser.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": True, "keys": True}


def test_readyz_names_the_database_when_it_is_away(make_app):
    app = make_app(DATABASE_URL=UNREACHABLE_DATABASE)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["database"]


def test_readyz_names_the_keys_when_none_load(make_app, tmp_path):
    app = make_app(KEYS_DIR=str(tmp_path / "empty"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["failing"] == ["keys"]


def test_readyz_names_redis_when_configured_and_away(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["failing"] == ["redis"]


@pytest.mark.skipif(not REDIS_URL, reason="IDP_TEST_REDIS_URL not set")
def test_readyz_checks_a_configured_redis_that_answers(make_app):
    app = make_app(REDIS_URL=REDIS_URL)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200 and response.get_json()["checks"]["redis"] is True


def _value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_logins_and_tokens(browser, rp, factory):
    before = browser.get("/metrics").get_data(as_text=True)
    account, password = factory.account()
    assert rp.sign_in(account.identifier, "Pas-le-bon-mot-2026").status_code == 401
    tokens = rp.exchange(rp.code_for(account.identifier, password)).get_json()
    rp.refresh(tokens["refresh_token"])

    response = browser.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    after = response.get_data(as_text=True)

    def grew(name: str, by: float = 1, **labels: str) -> bool:
        return _value(after, name, **labels) - _value(before, name, **labels) == by

    assert grew("idp_logins_total", result="failure")
    assert grew("idp_logins_total", result="success")
    assert grew("idp_tokens_issued_total", grant="authorization_code")
    assert grew("idp_tokens_issued_total", grant="refresh_token")
    assert grew("idp_http_requests_total", 2, endpoint="oidc.token", method="POST", status="200")
    assert re.search(r'idp_http_request_duration_seconds_count\{endpoint="oidc.token"\}', after)
    for name in ("idp_mails_total", "idp_backchannel_logout_deliveries_total"):
        assert f"# TYPE {name} counter" in after  # created, ready for others to count
