"""Session renewal at privilege changes, no-store on private pages and on the code redirect,
the `__Host-` cookie under https, and the cross-site check on state-changing POSTs
(issue 10 §6, §7)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import Browser
from tests.mailbox import links_in
from tests.oidc_client import OIDCClient, csrf_token, press_link
from tests.parent import Parent
from tests.test_activation import activation_form

COOKIE = "idp_session"


def _copy_cookie(browser, app):
    """Another browser holding the same session cookie (a stolen or fixed one)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, browser.get_cookie(COOKIE).value)
    return thief


def test_activation_renews_the_session_token(app, browser, rp, factory, mailbox):
    account, letter_password = factory.account(status="provisional", email=None)
    rp.follow(rp.sign_in(account.identifier, letter_password, rp.authorize().location))
    activation_form(Parent(browser))
    planted = _copy_cookie(browser, app)  # the provisional session's cookie, before activation
    (link,) = links_in(mailbox.last_to("anais@example.org"))
    back = rp.follow(press_link(browser, urlsplit(link).path))
    assert back.location.startswith(rp.redirect_uri)

    assert browser.get("/").status_code == 200  # the parent's browser goes on, signed in
    stale = planted.get("/")
    assert stale.status_code == 302 and "/login" in stale.location


def test_a_password_change_renews_the_session_token(app, browser, factory):
    account, password = factory.account()
    OIDCClient(browser, "", None, "").sign_in(account.identifier, password)
    before = _copy_cookie(browser, app)
    page = browser.get("/compte/mot-de-passe")
    changed = browser.post(
        "/compte/mot-de-passe",
        data={
            "current_password": password,
            "new_password": "Gomme-Verte-Lune-42",
            "new_password_confirm": "Gomme-Verte-Lune-42",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert changed.status_code == 302
    assert browser.get("/compte").status_code == 200
    assert before.get("/compte").status_code == 302


def test_private_pages_and_the_code_redirect_are_never_cached(browser, rp, factory):
    account, password = factory.account()
    code_redirect = rp.follow(rp.sign_in(account.identifier, password, rp.authorize().location))
    assert "code=" in code_redirect.location
    assert code_redirect.headers["Cache-Control"] == "no-store"
    for path in ("/", "/compte", "/compte/adresse", "/activation"):
        response = browser.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in browser.get("/.well-known/openid-configuration").headers.get(
        "Cache-Control", ""
    )


def test_the_session_cookie_has_the_host_prefix_under_https(make_app):
    app = make_app(ISSUER="https://connexion.example.org")
    app.test_client_class = Browser
    with app.app_context():
        response = app.test_client().get("/login", base_url="https://connexion.example.org")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-idp_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_plain_http_issuer_keeps_the_plain_cookie_name(browser):
    assert browser.get("/login").headers["Set-Cookie"].startswith("idp_session=")


def _sign_in_with(browser, factory, headers: dict):
    """Our sign-in form, right password, posted with these request headers."""
    account, password = factory.account()
    page = browser.get("/login")
    return browser.post(
        "/login",
        data={
            "identifier": account.identifier,
            "password": password,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
        headers=headers,
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_another_sites_post_is_refused(browser, factory, headers):
    response = _sign_in_with(browser, factory, headers)
    assert response.status_code == 403
    assert "Accès refusé" in response.get_data(as_text=True)
    assert browser.get("/").status_code == 302  # not signed in


@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}, {}]
)
def test_our_own_pages_post_as_before(browser, factory, headers):
    response = _sign_in_with(browser, factory, headers)
    assert response.status_code == 302
    assert browser.get("/").status_code == 200


def test_teleservices_still_post_to_the_oauth_endpoints_cross_site(browser, rp):
    response = browser.post(
        "/token",
        data={"grant_type": "authorization_code", "code": "x"},
        auth=(rp.client_id, rp.client_secret),
        headers={"Origin": "https://lsu.example.org", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_api_answers_carry_the_security_headers_too(browser: Browser):
    """The fixed headers are on every answer: pages, and the JSON of the OAuth endpoints."""
    for response in (browser.get("/userinfo"), browser.post("/token", data={}), browser.get("/")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_hsts_only_for_requests_that_came_over_https(make_app):
    app = make_app(ISSUER="https://idp.example.org")
    over_http = app.test_client().get("/healthz", base_url="http://idp.example.org")
    assert "Strict-Transport-Security" not in over_http.headers


def test_application_wide_rate_limits_are_refused_not_ignored(make_app):
    """Every limit is a decorator on its view; a default limit would never be checked."""
    with pytest.raises(RuntimeError, match="RATELIMIT_DEFAULT"):
        make_app(RATELIMIT_DEFAULT="100 per minute")


def test_the_provider_starts_with_rate_limits_off(make_app):
    """`make bench` runs the provider with RATELIMIT_ENABLED off (every virtual user comes
    from one address): Flask-Limiter then registers no hook, and the start must not fail."""
    app = make_app(RATELIMIT_ENABLED=False)
    assert app.test_client().get("/healthz").status_code == 200
