"""A parent signs in to a teleservice by SSO redirect and the teleservice reads the children."""

from __future__ import annotations

from tests.oidc_client import OIDCClient
from tests.parent import Parent


def test_active_parent_gets_code_then_id_token_with_children(rp: OIDCClient, factory):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    claims = rp.id_token_claims(tokens["id_token"])
    assert claims["sub"] == account.public_id
    assert claims["sub"] != account.identifier
    assert claims["given_name"] == "Anaïs"
    assert [c["given_name"] for c in claims["children"]] == ["Noé", "Inès"]
    assert claims["children"][0]["school"] == {"uai": "0751234J", "name": "École Jules-Ferry"}
    assert claims["children"][0]["sub"] == account.children[0].ref
    assert claims["children"][0]["class_level"] == "CE2"
    assert claims["email"] == "anais@example.org" and claims["email_verified"] is True
    assert rp.last["state"] == rp.state


def test_login_page_is_french_by_default_and_english_on_request(rp: OIDCClient, parent: Parent):
    french = parent.open("/login")
    assert 'lang="fr"' in french.html and "Mot de passe oublié" in french.text

    english = parent.open("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Forgotten password" in english.text

    response = rp.authorize(ui_locales="en fr")  # the teleservice asks for English
    page = parent.open(response.location)
    assert 'lang="en"' in page.html and "Sign in to your parent account" in page.text
