"""Over real HTTP: a relying party built on Authlib's OAuth client, and the LSU demo teleservice,
sign a parent in against the live provider and verify the ID token against its JWKS."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from tests.factories import Factory

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def sign_in_on_login_page(browser: requests.Session, page: requests.Response, identifier, password):
    """What a person does on the hosted login page: fill in the form and send it."""
    assert page.status_code == 200 and 'name="identifier"' in page.text
    token = CSRF.search(page.text).group(1)
    return browser.post(
        urljoin(page.url, "/login"),
        data={"identifier": identifier, "password": password, "csrf_token": token},
        allow_redirects=False,
    )


def follow_until(browser: requests.Session, response: requests.Response, prefix: str) -> str:
    """Follow redirects by hand and return the first Location that starts with ``prefix``."""
    for _ in range(10):
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(prefix):
            return location
        response = browser.get(location, allow_redirects=False)
    raise AssertionError("never redirected to the client")


def test_authlib_client_runs_the_code_flow_and_verifies_the_id_token(app, live_server):
    factory = Factory(app)
    account, password = factory.account()
    redirect_uri = "http://127.0.0.1:9/callback"  # never contacted: the test reads the Location
    client, secret = factory.client(redirect_uris=[redirect_uri])
    metadata = requests.get(f"{live_server.url}/.well-known/openid-configuration", timeout=5).json()
    assert metadata["issuer"] == live_server.url

    rp = OAuth2Session(
        client.client_id,
        secret,
        scope="openid profile email children",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    verifier = "v" * 20 + "erifier-of-forty-three-characters-at-least"
    url, state = rp.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce="n-0S6_WzA2Mj"
    )
    browser = requests.Session()
    login_page = browser.get(url)  # follows the redirect to the login page
    answer = sign_in_on_login_page(browser, login_page, account.identifier, password)
    callback = follow_until(browser, answer, redirect_uri)

    token = rp.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert token["token_type"].lower() == "bearer" and "refresh_token" in token

    jwks = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
    id_token = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    assert id_token.header["kid"] in [key["kid"] for key in jwks.as_dict()["keys"]]
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": live_server.url},
        aud={"essential": True, "value": client.client_id},
        nonce={"essential": True, "value": "n-0S6_WzA2Mj"},
        exp={"essential": True},
    ).validate(id_token.claims)
    assert [c["given_name"] for c in id_token.claims["children"]] == ["Noé", "Inès"]

    userinfo = rp.get(metadata["userinfo_endpoint"]).json()
    assert userinfo["sub"] == id_token.claims["sub"]
    assert userinfo["children"] == id_token.claims["children"]


def test_parent_signs_in_to_the_lsu_demo_and_sees_each_child(app, live_server, lsu_server):
    account, password = Factory(app).account()
    browser = requests.Session()
    login_page = browser.get(f"{lsu_server}/login")
    assert login_page.url.startswith(live_server.url)
    assert "Livret scolaire unique (démonstration)" in login_page.text  # who asks

    answer = sign_in_on_login_page(browser, login_page, account.identifier, password)
    home = browser.get(follow_until(browser, answer, lsu_server))
    assert home.status_code == 200
    assert "Noé" in home.text and "Inès" in home.text and "CE2" in home.text

    # SSO: a second visit needs no password, the provider's session answers at once.
    again = browser.get(f"{lsu_server}/login")
    assert again.url.startswith(lsu_server) and "Noé" in again.text


def test_signing_out_of_the_lsu_demo_ends_the_provider_session(app, live_server, lsu_server):
    account, password = Factory(app).account()
    browser = requests.Session()
    login_page = browser.get(f"{lsu_server}/login")
    answer = sign_in_on_login_page(browser, login_page, account.identifier, password)
    browser.get(follow_until(browser, answer, lsu_server))

    back = browser.post(f"{lsu_server}/logout")  # RP-initiated logout, then back to the LSU
    assert back.url == f"{lsu_server}/"
    assert "Se connecter avec mon compte parent" in back.text
    assert '<p class="info" role="status">Vous êtes déconnecté.</p>' in back.text  # said once
    assert "Vous êtes déconnecté" not in browser.get(f"{lsu_server}/").text

    again = browser.get(f"{lsu_server}/login")
    assert again.url.startswith(f"{live_server.url}/login")  # the password is asked again


def test_the_lsu_demo_and_the_provider_speak_the_same_language(app, live_server, lsu_server):
    """Switched to English on the LSU demo: the provider's pages follow (ui_locales), and the
    LSU shows English; a parent who chose English on the provider gets it on the LSU (the
    ``locale`` claim)."""
    account, password = Factory(app).account()
    browser = requests.Session()
    browser.headers["Accept-Language"] = "fr-FR"
    assert '<html lang="fr">' in browser.get(f"{lsu_server}/").text
    browser.get(f"{lsu_server}/langue/en")
    login_page = browser.get(f"{lsu_server}/login")
    assert login_page.url.startswith(live_server.url)
    assert '<html lang="en">' in login_page.text and "Sign in" in login_page.text
    answer = sign_in_on_login_page(browser, login_page, account.identifier, password)
    home = browser.get(follow_until(browser, answer, lsu_server))
    assert '<html lang="en">' in home.text and "Hello Anaïs" in home.text

    other = requests.Session()  # a French browser; the parent uses English on the provider
    other.headers["Accept-Language"] = "fr-FR"
    account.locale = "en"
    db.session.commit()
    login_page = other.get(f"{lsu_server}/login")
    answer = sign_in_on_login_page(other, login_page, account.identifier, password)
    home = other.get(follow_until(other, answer, lsu_server))
    assert '<html lang="en">' in home.text and "Hello Anaïs" in home.text
