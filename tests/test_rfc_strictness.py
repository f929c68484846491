"""RFC 6749 §3.1, §3.2 and §2.3, RFC 6750 §3.1 at the token, revocation, authorization and
userinfo endpoints (issue 10 §4)."""

from __future__ import annotations

from tests.oidc_client import basic_auth


def test_a_token_request_with_a_parameter_twice_is_invalid(browser, rp, factory):
    account, password = factory.account()
    code = rp.code_for(account.identifier, password)
    body = (
        f"grant_type=authorization_code&code={code}&code=other&redirect_uri={rp.redirect_uri}"
        f"&code_verifier={rp.verifier}"
    )
    response = browser.post(
        "/token",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers=basic_auth(rp.client_id, rp.client_secret),
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert rp.exchange(code).status_code == 200  # the refusal spent nothing


def test_two_client_authentication_methods_at_once_are_invalid(browser, rp, factory):
    account, password = factory.account()
    code = rp.code_for(account.identifier, password)
    response = browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": rp.verifier,
            "client_secret": rp.client_secret,
        },
        headers=basic_auth(rp.client_id, rp.client_secret),
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    revoke = browser.post(
        "/revoke",
        data={"token": "x", "client_secret": rp.client_secret},
        headers=basic_auth(rp.client_id, rp.client_secret),
    )
    assert revoke.status_code == 400 and revoke.get_json()["error"] == "invalid_request"


def test_an_authorization_request_with_a_parameter_twice_is_refused(browser, rp):
    query = "&".join(f"{k}={v}" for k, v in rp.params().items())
    response = browser.get(f"/authorize?{query}&state=second")
    assert response.status_code == 400 and "location" not in response.headers


def test_userinfo_without_any_token_names_no_error(browser):
    for response in (browser.get("/userinfo"), browser.post("/userinfo")):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "error" not in response.get_data(as_text=True)


def test_userinfo_with_a_bad_token_still_names_the_error(browser):
    response = browser.get("/userinfo", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_an_authorization_header_without_credentials_is_refused_not_a_crash(browser):
    """Found by the property test: `Authorization: Bearer ` made Authlib's parser fail (500)."""
    for path in ("/token", "/revoke"):
        response = browser.post(path, headers={"Authorization": "Bearer "})
        assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    response = browser.get("/userinfo", headers={"Authorization": "Basic"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
