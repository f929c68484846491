"""The back channel, as a relying teleservice sees it: the token, userinfo and revocation endpoints.

The LSU teleservice has sent a parent through the front channel and holds a code. It exchanges it
(RFC 6749 §4.1.3, PKCE per RFC 7636), refreshes with rotation (RFC 9700 §4.14), reads the
parent's claims at userinfo (OIDC Core §5.3, RFC 6750) and revokes what it no longer needs
(RFC 7009). Every refusal is checked as the teleservice sees it: status, JSON `error` code
(RFC 6749 §5.2) and headers. Endpoints are found from discovery, never from fixed paths.
"""

from __future__ import annotations

import dataclasses
import secrets
import time

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, AuthorizationCode
from idp.models.accounts import LOCKED
from idp.passwords import secret_hash
from tests.oidc_client import OIDCClient

OTHER_REDIRECT_URI = "https://lsu.example.org/elsewhere"


@pytest.fixture
def parent(factory) -> tuple[str, str]:
    account, password = factory.account()
    return account.identifier, password


def assert_error(response, status: int, error: str) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.is_json, response.get_data(True)
    assert response.get_json()["error"] == error


def assert_refused_at_userinfo(rp: OIDCClient, *access_tokens: str) -> None:
    for access_token in access_tokens:
        response = rp.userinfo(access_token)
        assert response.status_code == 401
        assert "invalid_token" in response.headers["WWW-Authenticate"]


def code_row(code: str) -> AuthorizationCode:
    return db.session.scalar(select(AuthorizationCode).filter_by(code=secret_hash(code)))


# 1. Code exchange


def test_code_exchange_with_client_secret_basic_and_client_secret_post(rp, new_rp, parent):
    post_rp = new_rp(auth_method="client_secret_post")
    for client, basic in ((rp, True), (post_rp, False)):
        response = client.exchange(client.code_for(*parent), basic=basic)

        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert {"access_token", "id_token", "refresh_token"} <= body.keys()
        assert body["token_type"] == "Bearer"
        assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"
        assert client.id_token_claims(body["id_token"])["aud"] == client.client_id


# 2. Client authentication


def test_wrong_secret_or_unknown_client_is_invalid_client(rp, parent):
    code = rp.code_for(*parent)
    wrong_secret = dataclasses.replace(rp, client_secret="not-the-secret")
    unknown = dataclasses.replace(rp, client_id="no-such-client")

    response = wrong_secret.exchange(code)
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")  # RFC 6749 §5.2
    assert_error(unknown.exchange(code), 401, "invalid_client")
    without_secret = dataclasses.replace(rp, client_secret=None)  # as if it were public
    assert_error(without_secret.exchange(code), 401, "invalid_client")
    unknown_post = unknown.exchange(code, basic=False)
    assert unknown_post.status_code in (400, 401)
    assert unknown_post.get_json()["error"] == "invalid_client"


# 3. PKCE and redirect_uri at the token endpoint


def test_wrong_or_missing_code_verifier_and_wrong_redirect_uri_are_refused(rp, parent):
    code = rp.code_for(*parent)
    assert_error(rp.exchange(code, verifier=secrets.token_urlsafe(48)), 400, "invalid_grant")

    # RFC 7636 §4.6 names invalid_grant for a mismatch only; a missing required parameter is
    # invalid_request (RFC 6749 §5.2).
    code = rp.code_for(*parent)
    without_verifier = {"grant_type": "authorization_code", "code": code}
    response = rp.token_request({**without_verifier, "redirect_uri": rp.redirect_uri})
    assert_error(response, 400, "invalid_request")

    code = rp.code_for(*parent)
    assert_error(rp.exchange(code, redirect_uri=OTHER_REDIRECT_URI), 400, "invalid_grant")


# 4. A code is single use


def test_replayed_code_is_refused_and_revokes_what_it_issued(rp, parent):
    code = rp.code_for(*parent)
    first = rp.exchange(code).get_json()

    assert_error(rp.exchange(code), 400, "invalid_grant")
    assert_refused_at_userinfo(rp, first["access_token"])
    assert_error(rp.refresh(first["refresh_token"]), 400, "invalid_grant")


# 5. A code expires


def test_code_lives_sixty_seconds_then_is_refused(rp, parent):
    code = rp.code_for(*parent)
    row = code_row(code)
    assert row.expires_at - time.time() == pytest.approx(60, abs=3)

    row.expires_at = int(time.time()) - 1
    db.session.commit()
    assert_error(rp.exchange(code), 400, "invalid_grant")


# 6. A code is bound to its client


def test_code_of_one_client_is_refused_to_another(rp, new_rp, parent):
    other = new_rp(name="Cantine")
    code = rp.code_for(*parent)
    response = other.exchange(code, verifier=rp.verifier, redirect_uri=rp.redirect_uri)
    assert_error(response, 400, "invalid_grant")


# 7. Refresh with rotation


def test_refresh_rotates_and_reuse_of_a_spent_refresh_token_revokes_the_family(rp, parent):
    first = rp.tokens_for(*parent)

    response = rp.refresh(first["refresh_token"])
    assert response.status_code == 200, response.get_json()
    second = response.get_json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert response.headers["Cache-Control"] == "no-store"
    assert rp.userinfo(first["access_token"]).status_code == 200  # valid until it expires
    assert rp.userinfo(second["access_token"]).status_code == 200

    third = rp.refresh(second["refresh_token"]).get_json()
    assert "refresh_token" in third

    assert_error(rp.refresh(first["refresh_token"]), 400, "invalid_grant")
    assert_error(rp.refresh(third["refresh_token"]), 400, "invalid_grant")
    tokens = first["access_token"], second["access_token"], third["access_token"]
    assert_refused_at_userinfo(rp, *tokens)


def test_another_clients_refresh_token_is_refused_and_stays_usable(rp, new_rp, parent):
    first = rp.tokens_for(*parent)
    thief = new_rp()
    assert_error(thief.refresh(first["refresh_token"]), 400, "invalid_grant")
    assert rp.refresh(first["refresh_token"]).status_code == 200  # not spent by the other try


# 8. Public clients


def test_public_client_exchanges_with_pkce_only_and_gets_no_refresh_token(new_rp, parent):
    public = new_rp(auth_method="none")
    assert public.client_secret is None

    response = public.exchange(public.code_for(*parent))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {"access_token", "id_token"} <= body.keys()
    assert "refresh_token" not in body

    code = public.code_for(*parent)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": public.redirect_uri}
    assert_error(public.token_request(data), 400, "invalid_request")


# 9. Revocation (RFC 7009)


def test_revocation_of_access_and_refresh_tokens(rp, parent):
    first = rp.tokens_for(*parent)
    response = rp.revoke(first["access_token"], hint="access_token")
    assert response.status_code == 200
    assert_refused_at_userinfo(rp, first["access_token"])

    second = rp.tokens_for(*parent)
    assert rp.revoke(second["refresh_token"]).status_code == 200
    assert_error(rp.refresh(second["refresh_token"]), 400, "invalid_grant")
    assert_refused_at_userinfo(rp, second["access_token"])

    assert rp.revoke(secrets.token_urlsafe(32)).status_code == 200

    third = rp.tokens_for(*parent)
    anonymous = rp.browser.post(
        rp.endpoint("revocation_endpoint"), data={"token": third["access_token"]}
    )
    assert_error(anonymous, 401, "invalid_client")
    assert rp.userinfo(third["access_token"]).status_code == 200


def test_revocation_searches_past_a_wrong_token_type_hint(rp, parent):
    # RFC 7009 §2.1: "If the server is unable to locate the token using the given hint, it MUST
    # extend its search across all of its supported token types."
    tokens = rp.tokens_for(*parent)
    assert rp.revoke(tokens["refresh_token"], hint="access_token").status_code == 200
    assert_error(rp.refresh(tokens["refresh_token"]), 400, "invalid_grant")


# 10. Userinfo


def test_userinfo_returns_the_id_token_claims_to_a_valid_bearer_only(rp, parent):
    tokens = rp.tokens_for(*parent)
    id_claims = rp.id_token_claims(tokens["id_token"])
    names = ("sub", "given_name", "family_name", "name", "email", "email_verified", "children")

    for method in ("GET", "POST"):
        response = rp.userinfo(tokens["access_token"], method=method)
        assert response.status_code == 200, response.get_data(True)
        info = response.get_json()
        assert {name: info[name] for name in names} == {name: id_claims[name] for name in names}

    missing = rp.userinfo(None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].lower().startswith("bearer")  # case-insensitive

    garbage = rp.userinfo("not-a-token")
    assert garbage.status_code == 401
    assert 'error="invalid_token"' in garbage.headers["WWW-Authenticate"]
    assert garbage.get_json()["error"] == "invalid_token"

    account = db.session.scalar(select(Account).filter_by(identifier=parent[0]))
    account.status = LOCKED
    db.session.commit()
    assert_refused_at_userinfo(rp, tokens["access_token"])


def test_refresh_for_a_locked_account_is_invalid_grant(rp, parent):
    # RFC 6749 §5.2: a refresh token that is no longer valid is invalid_grant.
    tokens = rp.tokens_for(*parent)
    account = db.session.scalar(select(Account).filter_by(identifier=parent[0]))
    account.status = LOCKED
    db.session.commit()
    assert_error(rp.refresh(tokens["refresh_token"]), 400, "invalid_grant")


# 11. Grant types and methods


def test_unknown_or_missing_grant_type_and_get_on_token_endpoint(rp):
    response = rp.token_request({"grant_type": "password", "username": "u", "password": "p"})
    assert_error(response, 400, "unsupported_grant_type")

    # RFC 6749 §5.2 would say invalid_request (a required parameter is missing); Authlib
    # answers unsupported_grant_type. Either is an error a client can act on.
    response = rp.token_request({"code": "whatever"})
    assert response.status_code == 400
    assert response.get_json()["error"] in ("invalid_request", "unsupported_grant_type")

    response = rp.browser.get(rp.endpoint("token_endpoint"))
    assert response.status_code == 405
    assert response.is_json


def test_get_on_token_endpoint_names_the_allowed_method(rp):
    response = rp.browser.get(rp.endpoint("token_endpoint"))
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")  # RFC 9110 §15.5.6: MUST
