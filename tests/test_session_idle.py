"""A sign-in session in use never idles out, whatever IDP_SESSION_IDLE_TTL is; one left alone
for longer than it does. The clock is the provider's own (`idp.sessions.utcnow`), moved by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp import sessions
from idp.models.base import utcnow
from tests.oidc_client import OIDCClient


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(sessions, "utcnow", clock)
    return clock


@pytest.mark.parametrize("idle_ttl, step", [(5, 4), (30, 25), (1800, 1500)])
def test_a_session_in_use_stays_open(make_app, factory_for, clock, idle_ttl, step):
    app = make_app(SESSION_IDLE_TTL=idle_ttl)
    browser = factory_for(app)
    for _ in range(12):  # far longer than the idle timeout in all, never idle that long
        clock.advance(step)
        assert browser.get("/compte").status_code == 200
    clock.advance(idle_ttl * 1.2 + 60)
    assert browser.get("/compte").location.endswith("/login")


@pytest.fixture
def factory_for(mailbox):
    from tests.conftest import Browser
    from tests.factories import Factory

    def signed_in_browser(app):
        app.test_client_class = Browser
        with app.app_context():
            account, password = Factory(app).account()
            browser = app.test_client()
            assert OIDCClient(browser, "", None, "").sign_in(account.identifier, password)
        return browser

    return signed_in_browser
