"""Error logs and every logger's lines mask mailed-link tokens and OAuth secrets (contract §4)."""

from __future__ import annotations

import logging
import secrets

import pytest

from idp import logs
from idp.flows.recovery import service as recovery


@pytest.fixture
def failing_app(make_app, monkeypatch):
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def explode(token: str):
        raise RuntimeError(f"could not open the link {token}")

    monkeypatch.setattr(recovery, "open_link", explode)
    return app


def test_an_error_on_a_link_page_is_logged_without_its_token(failing_app, caplog):
    token = secrets.token_urlsafe(32)
    with caplog.at_level(logging.ERROR):
        response = failing_app.test_client().get(f"/recovery/password/{token}")
    assert response.status_code == 500
    text = caplog.text + "".join(record.exc_text or "" for record in caplog.records)
    assert "/recovery/password/***" in text
    assert token not in text


@pytest.mark.parametrize(
    "line",
    [
        "GET /activation/confirm/{t} 200",
        "GET /compte/adresse/confirmer/{t}?x=1 400",
        "POST /token code={t}&client_secret=abc",
        "GET /cb?state=xyz&code=short",
        "Bearer {t}.{t}.{t}",
    ],
)
def test_mask_hides_tokens_and_secret_parameters(line):
    token = secrets.token_urlsafe(32)
    masked = logs.mask(line.format(t=token))
    assert token not in masked and "abc" not in masked and "short" not in masked
    assert "***" in masked


def test_json_format_is_one_object_per_line():
    record = logging.LogRecord("x", logging.INFO, "f", 1, "GET %s", ("/a\nb",), None)
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line and '"message": "GET /a\\nb"' in line
