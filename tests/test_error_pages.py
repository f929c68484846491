"""When something goes wrong, a parent reads a French page saying what to do next, an API client
reads JSON, and nobody ever sees a stack trace."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from idp.extensions import db
from tests.conftest import TEST_DATABASE_URL
from tests.parent import Page, Parent

UNREACHABLE_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/none"


def test_unknown_page_is_a_french_404_with_a_way_back(parent: Parent):
    page = parent.open("/nulle-part")
    assert page.status_code == 404 and page.message_ids == ["error.404"]
    assert page.tree.find_all("html")[0]["lang"] == "fr"
    assert "/" in page.links()
    # The words, in French and in English, on purpose.
    assert "Page introuvable" in page.text and "Retour à l'accueil" in page.text
    english = parent.open("/nulle-part", headers={"Accept-Language": "en"})
    assert english.message_ids == ["error.404"] and "Page not found" in english.text


def test_api_endpoints_answer_json_even_for_a_wrong_method(browser):
    response = browser.get("/token")
    assert response.status_code == 405
    assert response.is_json and response.get_json()["error"] == "invalid_request"


@pytest.fixture
def broken_app(make_app):
    app = make_app(DATABASE_URL=UNREACHABLE_DATABASE)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    return app


def test_database_outage_is_a_503_page_asking_to_retry(broken_app):
    response = broken_app.test_client().get("/authorize?client_id=lsu&response_type=code")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert Page(response).message_ids == ["error.503"]


def test_database_outage_at_the_token_endpoint_is_json(broken_app):
    response = broken_app.test_client().post(
        "/token", data={"grant_type": "authorization_code"}, auth=("lsu", "secret")
    )
    assert response.status_code == 503
    assert response.get_json() == {"error": "server_error"}


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL to drop connections")
def test_dropped_connections_cost_one_503_then_the_pool_recovers(make_app):
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser = app.test_client()
    bearer = {"Authorization": "Bearer not-a-token"}
    with app.app_context():  # three connections in the pool, as after some traffic
        held = [db.engine.connect() for _ in range(3)]
        for connection in held:
            connection.execute(text("SELECT 1"))
            connection.close()
    assert browser.get("/userinfo", headers=bearer).status_code == 401

    killer = create_engine(TEST_DATABASE_URL)
    with killer.begin() as connection:  # what a database restart does to open connections
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    killer.dispose()

    # No ping before each use: the first request meets a dead connection and asks to retry;
    # the whole pool is dropped with it, so the next ones all get new connections.
    assert browser.get("/userinfo", headers=bearer).status_code == 503
    assert [browser.get("/userinfo", headers=bearer).status_code for _ in range(4)] == [401] * 4


def test_discovery_and_keys_need_no_database(broken_app):
    browser = broken_app.test_client()
    assert browser.get("/.well-known/openid-configuration").status_code == 200
    assert browser.get("/jwks.json").get_json()["keys"]


def test_an_unexpected_failure_shows_no_internals(broken_app):
    response = Page(broken_app.test_client().get("/boom"))
    assert response.status_code == 500 and response.message_ids == ["error.500"]
    assert "secret internals" not in response.html and "Traceback" not in response.html


def test_pages_carry_security_headers(browser):
    response = browser.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # http on a laptop


def test_https_issuer_gets_hsts_and_secure_cookies(make_app):
    app = make_app(ISSUER="https://idp.example.org")
    response = app.test_client().get("/login", base_url="https://idp.example.org")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_nul_character_in_any_parameter_is_a_400(browser):
    # PostgreSQL refuses NUL in text: without this check, a 500 there.
    assert browser.get("/authorize?client_id=lsu%00&response_type=code").status_code == 400
    login = browser.post("/login", data={"identifier": "a\x00b", "password": "x"})
    assert login.status_code == 400
