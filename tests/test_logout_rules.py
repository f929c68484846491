"""Signing out (RP-Initiated Logout 1.0) and what ends with a sign-in session.

- a teleservice that sends a valid id_token_hint for the signed-in parent and a registered
  post_logout_redirect_uri gets its parent back at once; otherwise the provider asks, on a page
  naming the teleservices that will be signed out;
- tokens issued without offline_access end with their session (Back-Channel Logout 1.0 §2.7);
  offline_access is granted only to clients registered for it, and survives the logout;
- ID tokens carry `sid`, the same for one client and session, different between clients.
"""

from __future__ import annotations

import html
import re

from tests.oidc_client import OIDCClient, csrf_token

POST_LOGOUT = "https://lsu.example.org/"  # registered by the factory
CANTEEN = "https://cantine.example.org/callback"


def logout(rp: OIDCClient, **params):
    return rp.browser.get(rp.endpoint("end_session_endpoint"), query_string=params)


def teleservices_named(response) -> list[str]:
    page = html.unescape(response.get_data(as_text=True))
    listed = re.search(r"<ul class=\"teleservices\" data-teleservices>(.*?)</ul>", page, re.S)
    return re.findall(r"<li>(.*?)</li>", listed.group(1)) if listed else []


def signed_in(browser) -> bool:
    return browser.get("/compte").status_code == 200


def test_valid_hint_and_registered_uri_sign_out_without_a_question(rp, factory):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    response = logout(
        rp, id_token_hint=tokens["id_token"], post_logout_redirect_uri=POST_LOGOUT, state="s1"
    )
    assert response.status_code == 302 and response.location == POST_LOGOUT + "?state=s1"
    assert not signed_in(rp.browser)


def test_otherwise_the_page_asks_and_names_the_teleservices(rp, new_rp, factory):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    canteen = new_rp(name="Cantine", redirect_uris=[CANTEEN])
    canteen.tokens_for(account.identifier, password)
    unregistered = "https://lsu.example.org/ailleurs"
    for params in (
        {},  # no hint
        {"post_logout_redirect_uri": POST_LOGOUT, "client_id": rp.client_id},  # no hint
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": unregistered},
        {"id_token_hint": tokens["id_token"]},  # nowhere to go back to
    ):
        response = logout(rp, **params)
        assert response.status_code == 200, params
        assert teleservices_named(response) == ["Cantine", "LSU de test"], params
        assert signed_in(rp.browser), params

    page = logout(rp).get_data(as_text=True)
    confirmed = rp.browser.post(
        rp.endpoint("end_session_endpoint"), data={"csrf_token": csrf_token(page)}
    )
    assert confirmed.status_code == 200 and "Vous êtes déconnecté" in confirmed.get_data(True)
    assert not signed_in(rp.browser)


def test_a_hint_for_another_parent_asks_first(rp, factory, app):
    first, password = factory.account()
    hint = rp.tokens_for(first.identifier, password)["id_token"]
    second, password2 = factory.account(given_name="Marc", email="marc@example.org")
    other = OIDCClient(app.test_client(), rp.client_id, rp.client_secret, rp.redirect_uri)
    other.tokens_for(second.identifier, password2)
    response = logout(other, id_token_hint=hint, post_logout_redirect_uri=POST_LOGOUT)
    assert response.status_code == 200 and teleservices_named(response) == ["LSU de test"]
    assert signed_in(other.browser)


def test_a_forged_hint_at_logout_is_refused(rp, factory):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    head, payload, signature = tokens["id_token"].split(".")
    response = logout(rp, id_token_hint=f"{head}.{payload}x.{signature}")
    assert response.status_code == 400 and signed_in(rp.browser)


def test_tokens_without_offline_access_end_with_the_session(rp, new_rp, factory):
    account, password = factory.account()
    online = rp.tokens_for(account.identifier, password, scope="openid offline_access")
    assert online["scope"] == "openid"  # not registered for offline_access: not granted
    offline_rp = new_rp(
        redirect_uris=[CANTEEN], scope="openid profile offline_access", name="Cantine"
    )
    offline = offline_rp.tokens_for(account.identifier, password, scope="openid offline_access")
    assert offline["scope"] == "openid offline_access"
    pending_code = rp.code_for(account.identifier, password)

    page = logout(rp).get_data(as_text=True)
    rp.browser.post(rp.endpoint("end_session_endpoint"), data={"csrf_token": csrf_token(page)})

    assert rp.userinfo(online["access_token"]).status_code == 401
    assert rp.refresh(online["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert rp.exchange(pending_code).get_json()["error"] == "invalid_grant"
    refreshed = offline_rp.refresh(offline["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()
    assert offline_rp.userinfo(refreshed.get_json()["access_token"]).status_code == 200


def test_id_tokens_carry_a_sid_per_session_and_client(rp, new_rp, factory, app):
    account, password = factory.account()
    first = rp.claims_for(account.identifier, password)
    again = rp.claims_for(account.identifier, password)
    canteen = new_rp(redirect_uris=[CANTEEN])
    other_client = canteen.claims_for(account.identifier, password)
    assert first["sid"] and first["sid"] == again["sid"]
    assert other_client["sid"] != first["sid"]

    elsewhere = OIDCClient(app.test_client(), rp.client_id, rp.client_secret, rp.redirect_uri)
    assert elsewhere.claims_for(account.identifier, password)["sid"] != first["sid"]

    metadata = rp.browser.get("/.well-known/openid-configuration").get_json()
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    assert "sid" in metadata["claims_supported"]
