"""What each process keeps in memory, and how soon a change is seen (issue 14).

Clients are cached per process: a change made by this process (secret rotation, removal, a new
registration) is seen at once, one made by another process within the cache's lifetime.
Discovery and JWKS are prebuilt bytes with an ETag, so a teleservice can revalidate its copy.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import create_engine, text

from idp import bootstrap
from idp.oidc.clients import cache as client_cache
from idp.oidc.clients import registry as clients
from tests.oidc_client import OIDCClient

DISCOVERY = "/.well-known/openid-configuration"


def exchange_status(rp: OIDCClient, account, password) -> int:
    """The status of a code exchange with the client's credentials as the teleservice has them."""
    code = rp.code_for(account.identifier, password)
    return rp.exchange(code).status_code


def test_a_rotated_secret_is_refused_at_once(rp: OIDCClient, factory):
    account, password = factory.account()
    assert exchange_status(rp, account, password) == 200  # the client is now cached

    _, new_secret = clients.rotate_secret(rp.client_id)

    assert exchange_status(rp, account, password) == 401
    rp.client_secret = new_secret
    assert exchange_status(rp, account, password) == 200


def test_a_removed_client_is_refused_at_once(rp: OIDCClient, factory, caplog):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)

    clients.remove_client(rp.client_id)

    assert rp.refresh(tokens["refresh_token"]).status_code == 401
    with caplog.at_level(logging.INFO, logger="idp.oidc.views"):
        page = rp.authorize()
    assert page.status_code == 400
    assert 'data-message-id="oidc.invalid_request"' in page.get_data(as_text=True)
    # The page is plain French; the technical reason goes to the operator's log only.
    assert "invalid_client" not in page.get_data(as_text=True)
    assert "invalid_client" in caplog.text


def test_a_client_registered_after_a_miss_works_at_once(factory, browser):
    rp = OIDCClient(browser, "lsu-a-venir", None, "https://lsu.example.org/callback")
    assert rp.authorize().status_code == 400  # unknown: not cached as such

    _, secret = factory.client(client_id="lsu-a-venir")
    rp.client_secret = secret
    account, password = factory.account()

    assert rp.tokens_for(account.identifier, password)["id_token"]


def test_a_change_made_by_another_process_is_seen_within_the_cache_lifetime(
    rp: OIDCClient, factory, database_url, monkeypatch
):
    monkeypatch.setattr(client_cache, "TTL_SECONDS", 0.5)
    account, password = factory.account()
    assert exchange_status(rp, account, password) == 200

    other_process = create_engine(database_url)  # outside this process's sessions and events
    with other_process.begin() as connection:
        connection.execute(
            text("UPDATE client SET client_secret = 'x' WHERE client_id = :id"),
            {"id": rp.client_id},
        )
    other_process.dispose()
    time.sleep(0.6)

    assert exchange_status(rp, account, password) == 401


def test_discovery_is_served_with_an_etag_and_revalidated(browser):
    first = browser.get(DISCOVERY)
    assert first.status_code == 200 and first.get_json()["issuer"]
    assert first.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    etag = first.headers["ETag"]

    again = browser.get(DISCOVERY, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert browser.get(DISCOVERY, headers={"If-None-Match": '"other"'}).status_code == 200


def test_jwks_etag_changes_when_the_keys_rotate(make_app, tmp_path):
    app = make_app(KEYS_DIR=str(tmp_path / "keys"))
    with app.app_context():
        bootstrap.ensure_signing_keys(app)
    browser = app.test_client()
    before = browser.get("/jwks.json")
    assert before.status_code == 200 and "max-age=60" in before.headers["Cache-Control"]
    assert (
        browser.get("/jwks.json", headers={"If-None-Match": before.headers["ETag"]}).status_code
        == 304
    )

    new_kids = app.extensions["idp_keys"].add_keys()

    after = browser.get("/jwks.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert set(new_kids) <= {key["kid"] for key in after.get_json()["keys"]}
