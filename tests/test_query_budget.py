"""The hot endpoints stay within their budget of SQL statements (issue 14).

Every teleservice page may cost a token or a userinfo call, and at the start of the school year
a large share of the country's parents sign in within days: each round trip to the database
counts. The statements are counted with SQLAlchemy's `before_cursor_execute` event, on the
second round trip (the first one fills the per-process caches of clients and keys).
"""

from __future__ import annotations

import pytest

from idp.oidc.clients import cache as client_cache
from tests.oidc_client import OIDCClient, query_of
from tests.statements import statements

BUDGET = {"userinfo": 1, "token": 3, "refresh": 3, "authorize": 2, "discovery": 0, "jwks": 0}


def assert_within(name: str, sent: list[str]) -> None:
    listing = "\n".join(sent)
    assert len(sent) <= BUDGET[name], f"{name}: {len(sent)} statements\n{listing}"


@pytest.fixture
def signed_in(rp: OIDCClient, factory, monkeypatch) -> OIDCClient:
    """A browser with a live sign-in session, after one full round trip (caches warm)."""
    monkeypatch.setattr(client_cache, "TTL_SECONDS", 3600.0)  # however slow the machine
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    assert rp.userinfo(tokens["access_token"]).status_code == 200
    rp.refresh(tokens["refresh_token"])
    return rp


def test_sso_round_trip_within_budget(signed_in: OIDCClient):
    rp = signed_in
    with statements() as sent:
        response = rp.authorize()
    assert response.status_code == 302 and "code=" in response.location
    assert_within("authorize", sent)
    # Nothing changed in the cookie's content: it is not signed and sent again on each SSO.
    assert "Set-Cookie" not in response.headers
    code = query_of(response.location)["code"]

    with statements() as sent:
        exchanged = rp.exchange(code)
    assert exchanged.status_code == 200, exchanged.get_json()
    assert_within("token", sent)
    tokens = exchanged.get_json()

    with statements() as sent:
        info = rp.userinfo(tokens["access_token"])
    assert info.status_code == 200 and info.get_json()["children"]
    assert_within("userinfo", sent)

    with statements() as sent:
        refreshed = rp.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()
    assert_within("refresh", sent)


def test_discovery_and_keys_need_no_statement(signed_in: OIDCClient, browser):
    for name, path in (("discovery", "/.well-known/openid-configuration"), ("jwks", "/jwks.json")):
        with statements() as sent:
            assert browser.get(path).status_code == 200
        assert_within(name, sent)
