"""Hostile input gets a 400, never a 500 (issue 10 §3): the French error page for the pages,
RFC 6749 JSON for the APIs; attacker text is never carried to a teleservice's callback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from idp.oidc.clients import registration

CALLBACK = "https://lsu.example.org/callback"
HOSTILE = ["%C3%A9", "a%5Cb", "a%22b", "a%01b", "a%7Fb"]


def test_deeply_nested_json_to_register_is_a_400(browser):
    nested = "[" * 1100 + "]" * 1100
    response = browser.post("/register", data=nested, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"

    initial, _ = registration.mint_initial_token(600)
    response = browser.post(
        "/register",
        data=nested,
        content_type="application/json",
        headers={"Authorization": f"Bearer {initial}"},
    )
    assert response.status_code == 400 and response.is_json


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", ["response_type", "code_challenge_method"])
def test_authorize_with_forbidden_characters_is_a_400_page(browser, rp, value, method, name):
    query = (
        f"client_id={rp.client_id}&redirect_uri={CALLBACK}&scope=openid&state=s"
        f"&response_type=code&code_challenge=abc&code_challenge_method=S256&{name}={value}"
    )
    if method == "GET":
        response = browser.get("/authorize?" + query)
    else:
        response = browser.post(
            "/authorize", data=query, content_type="application/x-www-form-urlencoded"
        )
    if response.status_code == 302:  # to the client, with an error code and no quoted text
        sent = parse_qs(urlsplit(response.location).query)
        assert response.location.startswith(CALLBACK)
        assert "error" in sent and "error_description" not in sent
    else:
        assert response.status_code == 400 and "location" not in response.headers
        assert 'lang="fr"' in response.get_data(as_text=True)


def test_an_unregistered_redirect_uri_ending_in_a_tab_is_a_400_page(browser, rp):
    response = browser.get(
        "/authorize",
        query_string=rp.params(redirect_uri=CALLBACK + "\t"),
    )
    assert response.status_code == 400
    assert "location" not in response.headers


def test_attacker_text_never_reaches_the_callback(browser, rp):
    response = browser.get("/authorize", query_string=rp.params(response_type="token<script>pwned"))
    assert response.status_code == 302 and response.location.startswith(CALLBACK)
    sent = parse_qs(urlsplit(response.location).query)
    assert sent["error"] == ["unsupported_response_type"]
    assert "pwned" not in response.location and "error_description" not in sent


@pytest.mark.parametrize(
    "data",
    [
        {"grant_type": "\u00e9"},
        {"grant_type": "authorization_code", "code": "a\\b", "redirect_uri": "x\x01"},
        {"grant_type": 'refresh"token'},
        {"grant_type": "refresh_token", "refresh_token": "\u00e9", "scope": "op\u00e9nid"},
    ],
)
def test_token_endpoint_with_forbidden_characters_is_a_json_400(browser, rp, data):
    response = browser.post("/token", data=data, auth=(rp.client_id, rp.client_secret))
    assert response.status_code in (400, 401)
    assert response.is_json and response.get_json()["error"]


def test_revoke_and_logout_with_forbidden_characters(browser, rp):
    revoked = browser.post(
        "/revoke",
        data={"token": "\u00e9", "token_type_hint": "a\\b"},
        auth=(rp.client_id, rp.client_secret),
    )
    assert revoked.status_code in (200, 400, 401) and revoked.is_json
    logout = browser.get(
        "/logout", query_string={"client_id": "\u00e9", "post_logout_redirect_uri": "a\\b"}
    )
    assert logout.status_code in (200, 400)


@pytest.mark.parametrize("body", ["[[]]", "[]", "3", '"x"', '{"identifier": ["a"]}'])
def test_a_json_body_on_a_page_is_a_400_not_a_crash(browser, body):
    """Found by the property test: Flask-WTF reads a JSON body as the form, and a list crashed."""
    response = browser.post("/login", data=body, content_type="application/json")
    assert response.status_code == 400
    assert 'lang="fr"' in response.get_data(as_text=True)
