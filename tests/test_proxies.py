"""Behind a TLS-terminating load balancer: IDP_TRUSTED_PROXIES hops of X-Forwarded-* are trusted,
no more; a plain-http request to an OIDC endpoint under an https issuer is a 400 OAuth error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.config import ConfigError, from_environment
from idp.extensions import db
from idp.models import AuditEvent
from tests.conftest import Browser
from tests.factories import Factory
from tests.oidc_client import OIDCClient, csrf_token

ISSUER = "https://connexion.example.org"
BALANCER = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "connexion.example.org"}


@pytest.fixture
def https_app(make_app, mailbox):
    def build(hops: int):
        app = make_app(SMTP_URL=mailbox.url, ISSUER=ISSUER, TRUSTED_PROXIES=hops)
        app.test_client_class = Browser
        return app

    return build


def _rp(app) -> OIDCClient:
    browser = app.test_client()
    client, secret = Factory(app).client()
    return OIDCClient(browser, client.client_id, secret, client.redirect_uris[0])


def test_the_balancers_https_is_trusted_with_one_hop(https_app):
    app = https_app(1)
    with app.app_context():
        rp = _rp(app)
        rp.metadata = {"authorization_endpoint": "/authorize", "token_endpoint": "/token"}
        response = rp.browser.get(
            "/authorize",
            query_string=rp.params(),
            base_url="http://10.0.0.5",
            headers={**BALANCER, "X-Forwarded-For": "203.0.113.7"},
        )
        assert response.status_code == 302
        assert response.location.startswith("/login")
        token = rp.browser.post(
            "/token",
            data={"grant_type": "authorization_code", "code": "nope"},
            auth=(rp.client_id, rp.client_secret),
            base_url="http://10.0.0.5",
            headers=BALANCER,
        )
        assert token.status_code == 400 and token.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize("path", ["/authorize?client_id=x&response_type=code", "/userinfo"])
def test_plain_http_under_an_https_issuer_is_a_400_not_a_500(https_app, path):
    app = https_app(0)  # no proxy declared: X-Forwarded-Proto is not believed
    with app.app_context():
        response = app.test_client().get(
            path, base_url="http://connexion.example.org", headers=BALANCER
        )
    assert response.status_code == 400
    if path == "/userinfo":
        assert response.get_json() == {
            "error": "invalid_request",
            "error_description": "https is required",
        }
    else:
        assert "Demande invalide" in response.get_data(as_text=True)


def test_token_over_plain_http_is_an_oauth_error(https_app):
    app = https_app(0)
    with app.app_context():
        response = app.test_client().post(
            "/token", data={"grant_type": "authorization_code"}, base_url="http://idp.internal"
        )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_a_spoofed_host_over_http_is_a_400(make_app):
    app = make_app()  # the default http://127.0.0.1 issuer; a hostile Host header
    with app.app_context():
        response = app.test_client().get(
            "/authorize?client_id=x&response_type=code", base_url="http://evil.example"
        )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "recorded"),
    [
        (0, "203.0.113.7", "10.0.0.5"),  # nobody trusted: the balancer's own address
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.66, 203.0.113.7", "203.0.113.7"),  # the parent's own header is not
        (2, "198.51.100.66, 203.0.113.7", "198.51.100.66"),
    ],
)
def test_audit_and_rate_limits_see_the_address_the_trusted_proxies_saw(
    https_app, hops, forwarded_for, recorded
):
    app = https_app(hops)
    with app.app_context():
        account, _ = Factory(app).account()
        browser = app.test_client()
        headers = {**BALANCER, "X-Forwarded-For": forwarded_for}
        page = browser.get("/login", base_url="http://10.0.0.5", headers=headers)

        browser.post(
            "/login",
            data={
                "identifier": account.identifier,
                "password": "wrong-password-1",
                "csrf_token": csrf_token(page.get_data(as_text=True)),
            },
            base_url="http://10.0.0.5",
            environ_base={"REMOTE_ADDR": "10.0.0.5"},
            headers={**headers, "Referer": "https://connexion.example.org/login"},
        )
        event = db.session.scalar(select(AuditEvent).filter_by(event="login_failed"))
    assert event is not None and event.ip_address == recorded


def test_trusted_proxies_must_be_a_small_whole_number():
    assert from_environment({"IDP_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    with pytest.raises(ConfigError, match="IDP_TRUSTED_PROXIES"):
        from_environment({"IDP_TRUSTED_PROXIES": "many"})


def test_the_login_rate_limit_is_per_parent_address_behind_the_balancer(https_app):
    """Behind one trusted proxy, two parents are two addresses: one exhausting the per-address
    limit does not block the other (without ProxyFix, both would be the balancer)."""
    app = https_app(1)
    with app.app_context():
        browser = app.test_client()

        def attempt(address: str, number: int = 0):
            headers = {**BALANCER, "X-Forwarded-For": address}
            page = browser.get("/login", base_url="http://10.0.0.5", headers=headers)
            return browser.post(
                "/login",
                data={
                    "identifier": f"inconnu.{number}",  # never the same: no per-account delay
                    "password": "wrong-password-1",
                    "csrf_token": csrf_token(page.get_data(as_text=True)),
                },
                base_url="http://10.0.0.5",
                headers={**headers, "Referer": "https://connexion.example.org/login"},
            )

        answers = [attempt("203.0.113.7", number).status_code for number in range(21)]
        assert answers[-1] == 429 and 429 not in answers[:20]
        assert attempt("198.51.100.9").status_code != 429
