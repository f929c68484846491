"""An administrator's tool registers a teleservice by API (RFC 7591), then manages it (RFC 7592).

The administrator mints an initial access token (`idp clients token`); the tool presents it once to
the registration endpoint found in discovery, gets the client's credentials and a registration
access token, and the new teleservice signs a parent in at once. The metadata is checked by the
same rules as `idp clients add`; each refusal is checked as the tool sees it (RFC 7591 §3.2.2,
RFC 6750 §3.1). With its registration access token the tool reads, replaces and deletes the
registration; after deletion, nothing the teleservice held works.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import AuditEvent, Client, InitialAccessToken
from idp.oidc.clients import registration
from idp.passwords import secret_hash
from tests.oidc_client import DISCOVERY, OIDCClient

CALLBACK = "https://cantine.example.org/callback"
METADATA = {
    "client_name": "Cantine scolaire",
    "redirect_uris": [CALLBACK],
    "post_logout_redirect_uris": ["https://cantine.example.org/"],
    "scope": "openid profile children",
    "token_endpoint_auth_method": "client_secret_basic",
}


@pytest.fixture
def endpoint(browser) -> str:
    return urlsplit(browser.get(DISCOVERY).get_json()["registration_endpoint"]).path


@pytest.fixture
def initial_token(app) -> str:
    token, _ = registration.mint_initial_token(3600)
    return token


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def register(browser, endpoint: str, token: str | None, metadata: dict | None = None):
    document = METADATA if metadata is None else metadata
    return browser.post(endpoint, json=document, headers=bearer(token))


def registered(browser, endpoint: str, token: str, **changes) -> dict:
    response = register(browser, endpoint, token, {**METADATA, **changes})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assert_refused(response, status: int, error: str) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.is_json and response.get_json()["error"] == error, response.get_data(True)
    assert response.get_json()["error_description"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def client_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Client))


def config_path(body: dict) -> str:
    return urlsplit(body["registration_client_uri"]).path


# 1. Registration, and the new teleservice at work


def test_registered_teleservice_signs_a_parent_in_with_the_returned_credentials(
    browser, endpoint, initial_token, factory
):
    response = register(browser, endpoint, initial_token)

    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["client_id"] and len(body["client_secret"]) >= 43  # 256 bits, base64url
    assert body["client_secret_expires_at"] == 0
    assert abs(body["client_id_issued_at"] - time.time()) < 5
    assert body["redirect_uris"] == [CALLBACK]
    assert body["scope"] == "openid profile children"
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]
    assert body["registration_access_token"]
    assert body["registration_client_uri"].endswith(f"/register/{body['client_id']}")

    account, password = factory.account()
    rp = OIDCClient(browser, body["client_id"], body["client_secret"], CALLBACK)
    tokens = rp.tokens_for(account.identifier, password, scope="openid children")
    assert [c["given_name"] for c in rp.id_token_claims(tokens["id_token"])["children"]] == [
        "Noé",
        "Inès",
    ]
    assert rp.refresh(tokens["refresh_token"]).status_code == 200

    client = db.session.scalar(select(Client).filter_by(client_id=body["client_id"]))
    assert client.client_secret == secret_hash(body["client_secret"])  # only the keyed hash
    assert client.registration_token_hash == secret_hash(body["registration_access_token"])
    event = db.session.scalar(select(AuditEvent).filter_by(event="client_registered"))
    assert event.client_id == body["client_id"]
    assert event.details["via"] == "registration_api"


def test_public_client_gets_no_secret_and_no_refresh_token(
    browser, endpoint, initial_token, factory
):
    body = registered(browser, endpoint, initial_token, token_endpoint_auth_method="none")

    assert "client_secret" not in body
    assert body["grant_types"] == ["authorization_code"]
    account, password = factory.account()
    rp = OIDCClient(browser, body["client_id"], None, CALLBACK)
    tokens = rp.tokens_for(account.identifier, password, scope="openid profile")
    assert "refresh_token" not in tokens


def test_minimal_metadata_takes_the_defaults(browser, endpoint, initial_token):
    response = register(browser, endpoint, initial_token, {"redirect_uris": [CALLBACK]})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["client_name"] == "cantine.example.org"
    assert body["scope"] == "openid profile email children"
    assert body["token_endpoint_auth_method"] == "client_secret_basic" and body["client_secret"]
    assert body["subject_type"] == "public"
    assert body["post_logout_redirect_uris"] == []


def test_discovery_advertises_the_registration_endpoint(browser, app):
    metadata = browser.get(DISCOVERY).get_json()
    assert metadata["registration_endpoint"] == app.config["ISSUER"] + "/register"


# 2. The initial access token: required, single use, expiring


def test_initial_token_registers_once(browser, endpoint, initial_token):
    assert register(browser, endpoint, initial_token).status_code == 201

    again = register(browser, endpoint, initial_token, {**METADATA, "client_name": "Autre"})
    assert_refused(again, 401, "invalid_token")
    assert client_count() == 1
    refused = db.session.scalar(select(AuditEvent).filter_by(event="initial_access_token_refused"))
    assert refused.details["reason"] == "used"


def test_expired_initial_token_is_refused(browser, endpoint, initial_token):
    db.session.execute(update(InitialAccessToken).values(expires_at=int(time.time()) - 1))

    assert_refused(register(browser, endpoint, initial_token), 401, "invalid_token")
    assert client_count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param({"Authorization": "Bearer "}, id="empty"),
        pytest.param({"Authorization": "Bearer not-a-token"}, id="unknown"),
        pytest.param({"Authorization": "Basic Y2FudGluZTpzZWNyZXQ="}, id="basic"),
    ],
)
def test_registration_without_a_valid_token_is_refused(browser, endpoint, headers):
    response = browser.post(endpoint, json=METADATA, headers=headers)

    assert_refused(response, 401, "invalid_token")
    assert client_count() == 0


def test_token_lifetime_and_storage(app):
    token, expires_at = registration.mint_initial_token(600)

    row = db.session.scalar(select(InitialAccessToken))
    assert row.token_hash == secret_hash(token) and len(token) >= 43
    assert abs(expires_at.timestamp() - time.time() - 600) < 5
    assert row.used_at is None


def test_refused_metadata_leaves_the_token_usable(browser, endpoint, initial_token):
    bad = register(browser, endpoint, initial_token, {**METADATA, "redirect_uris": ["http://x.fr"]})
    assert_refused(bad, 400, "invalid_redirect_uri")

    assert register(browser, endpoint, initial_token).status_code == 201


def test_a_token_spent_meanwhile_registers_nothing(app, initial_token):
    """The conditional update: the check passed, then another request spent the token."""
    row = registration._initial_token(initial_token)
    with db.engine.begin() as other:
        other.execute(update(InitialAccessToken).values(used_at=int(time.time())))

    with pytest.raises(registration.TokenRefused):
        registration._spend(row)
    assert client_count() == 0


def test_two_tools_presenting_one_token_at_once_register_one_client(live_server, initial_token):
    db.session.commit()
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def post() -> None:
        request = urllib.request.Request(
            live_server.url + "/register",
            data=json.dumps(METADATA).encode(),
            headers={"Content-Type": "application/json", **bearer(initial_token)},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 401, 401, 401]
    db.session.rollback()
    assert client_count() == 1


# 3. Metadata, checked as `idp clients add` checks it (RFC 7591 §3.2.2)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"redirect_uris": ["http://cantine.example.org/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": [CALLBACK + "#fragment"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": CALLBACK}, "invalid_client_metadata"),
        ({"redirect_uris": ["https://[::1/callback"]}, "invalid_redirect_uri"),
        (
            {"post_logout_redirect_uris": ["https://cantine.example.org/#bye"]},
            "invalid_redirect_uri",
        ),
        ({"grant_types": ["authorization_code", "client_credentials"]}, "invalid_client_metadata"),
        ({"grant_types": ["refresh_token"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "client_secret_jwt"}, "invalid_client_metadata"),
        ({"scope": "openid grades"}, "invalid_client_metadata"),
        ({"scope": "profile email"}, "invalid_client_metadata"),
        ({"scope": ["openid"]}, "invalid_client_metadata"),
        ({"subject_type": "shared"}, "invalid_client_metadata"),
        ({"id_token_signed_response_alg": "HS256"}, "invalid_client_metadata"),
        ({"id_token_signed_response_alg": "none"}, "invalid_client_metadata"),
        ({"initiate_login_uri": "http://cantine.example.org/login"}, "invalid_client_metadata"),
        ({"backchannel_logout_uri": "ftp://cantine.example.org/out"}, "invalid_client_metadata"),
        ({"client_name": "  "}, "invalid_client_metadata"),
        ({"client_name": "Cantine\u0000"}, "invalid_client_metadata"),
    ],
)
def test_bad_metadata_is_refused_and_registers_nothing(
    browser, endpoint, initial_token, changes, error
):
    assert_refused(register(browser, endpoint, initial_token, {**METADATA, **changes}), 400, error)
    assert client_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"redirect_uris": [', id="truncated"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"https://cantine.example.org"', id="string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"redirect_uris=https://cantine.example.org/callback", id="form"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(browser, endpoint, initial_token, body):
    response = browser.post(
        endpoint, data=body, headers={"Content-Type": "application/json", **bearer(initial_token)}
    )
    assert_refused(response, 400, "invalid_client_metadata")


def test_accepted_variants(browser, endpoint, app):
    variants = [
        {"redirect_uris": ["http://localhost:8080/cb", "http://127.0.0.1/cb", "http://[::1]/cb"]},
        {"subject_type": "pairwise", "id_token_signed_response_alg": "ES256"},
        {"token_endpoint_auth_method": "client_secret_post", "logo_uri": "ignored"},
        {"grant_types": ["authorization_code"], "response_types": ["code"]},
        {"initiate_login_uri": "https://cantine.example.org/login"},
    ]
    for changes in variants:
        token, _ = registration.mint_initial_token(60)
        body = registered(browser, endpoint, token, **changes)
        assert "logo_uri" not in body  # not understood, so not kept (RFC 7591 §2)


def test_other_methods_on_the_registration_endpoint_answer_json(browser, endpoint):
    response = browser.get(endpoint)
    assert response.status_code == 405 and response.is_json


# 4. Managing the registration (RFC 7592)


def test_read_returns_the_registration_without_the_secret(browser, endpoint, initial_token):
    body = registered(browser, endpoint, initial_token)

    response = browser.get(config_path(body), headers=bearer(body["registration_access_token"]))

    assert response.status_code == 200, response.get_json()
    read = response.get_json()
    assert "client_secret" not in read
    assert read == {k: v for k, v in body.items() if k != "client_secret"}
    assert response.headers["Cache-Control"] == "no-store"


def test_wrong_registration_token_is_refused_everywhere(browser, endpoint, app):
    first = registered(browser, endpoint, registration.mint_initial_token(60)[0])
    second = registered(browser, endpoint, registration.mint_initial_token(60)[0])
    put = {**METADATA, "client_id": first["client_id"]}

    for token in (None, "wrong", second["registration_access_token"], first["client_secret"]):
        path = config_path(first)
        assert_refused(browser.get(path, headers=bearer(token)), 401, "invalid_token")
        response = browser.put(path, json=put, headers=bearer(token))
        assert_refused(response, 401, "invalid_token")
        assert_refused(browser.delete(path, headers=bearer(token)), 401, "invalid_token")
    unknown = browser.get("/register/nobody", headers=bearer(first["registration_access_token"]))
    assert_refused(unknown, 401, "invalid_token")
    assert client_count() == 2


def test_clients_registered_by_the_cli_are_not_managed_here(browser, factory):
    client, _ = factory.client()
    response = browser.get(f"/register/{client.client_id}", headers=bearer("anything"))
    assert_refused(response, 401, "invalid_token")


def test_update_replaces_the_metadata(browser, endpoint, initial_token):
    body = registered(browser, endpoint, initial_token)
    token = body["registration_access_token"]
    new_callback = "https://cantine.example.org/retour"
    update_request = {
        **METADATA,
        "client_id": body["client_id"],
        "client_secret": body["client_secret"],
        "client_name": "Cantine (nouvelle)",
        "redirect_uris": [new_callback],
    }
    del update_request["post_logout_redirect_uris"]  # omitted: unset (RFC 7592 §2.2)

    response = browser.put(config_path(body), json=update_request, headers=bearer(token))

    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert updated["redirect_uris"] == [new_callback]
    assert updated["client_name"] == "Cantine (nouvelle)"
    assert updated["post_logout_redirect_uris"] == []
    assert "client_secret" not in updated  # unchanged, so not shown again
    read = browser.get(config_path(body), headers=bearer(token)).get_json()
    assert read["redirect_uris"] == [new_callback]
    event = db.session.scalar(select(AuditEvent).filter_by(event="client_updated"))
    assert event.details["fields"] == ["client_name", "post_logout_redirect_uris", "redirect_uris"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"client_id": None}, "invalid_request"),
        ({"client_id": "another"}, "invalid_request"),
        ({"client_secret": "not-the-secret"}, "invalid_request"),
        ({"registration_access_token": "x"}, "invalid_request"),
        ({"client_id_issued_at": 0}, "invalid_request"),
        ({"redirect_uris": ["http://cantine.example.org/cb"]}, "invalid_redirect_uri"),
        ({"scope": "openid grades"}, "invalid_client_metadata"),
    ],
)
def test_bad_update_is_refused_and_changes_nothing(
    browser, endpoint, initial_token, changes, error
):
    body = registered(browser, endpoint, initial_token)
    request = {**METADATA, "client_id": body["client_id"], **changes}
    request = {k: v for k, v in request.items() if v is not None}
    token = body["registration_access_token"]

    assert_refused(browser.put(config_path(body), json=request, headers=bearer(token)), 400, error)
    read = browser.get(config_path(body), headers=bearer(token)).get_json()
    assert read == {k: v for k, v in body.items() if k != "client_secret"}


def test_update_to_public_drops_the_secret_and_back_issues_a_new_one(
    browser, endpoint, initial_token
):
    body = registered(browser, endpoint, initial_token)
    token, path = body["registration_access_token"], config_path(body)
    request = {**METADATA, "client_id": body["client_id"], "token_endpoint_auth_method": "none"}

    public = browser.put(path, json=request, headers=bearer(token)).get_json()
    assert "client_secret" not in public and public["grant_types"] == ["authorization_code"]
    client = db.session.scalar(select(Client).filter_by(client_id=body["client_id"]))
    assert client.client_secret is None

    request["token_endpoint_auth_method"] = "client_secret_post"
    confidential = browser.put(path, json=request, headers=bearer(token)).get_json()
    assert confidential["client_secret"] != body["client_secret"]
    db.session.refresh(client)
    assert client.check_client_secret(confidential["client_secret"])


def test_delete_ends_everything_the_client_held(browser, endpoint, initial_token, factory):
    body = registered(browser, endpoint, initial_token)
    token, path = body["registration_access_token"], config_path(body)
    account, password = factory.account()
    rp = OIDCClient(browser, body["client_id"], body["client_secret"], CALLBACK)
    tokens = rp.tokens_for(account.identifier, password, scope="openid profile")
    assert rp.userinfo(tokens["access_token"]).status_code == 200

    response = browser.delete(path, headers=bearer(token))

    assert response.status_code == 204 and response.get_data() == b""
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    assert rp.refresh(tokens["refresh_token"]).status_code == 401  # invalid_client
    assert_refused(browser.get(path, headers=bearer(token)), 401, "invalid_token")
    assert_refused(browser.delete(path, headers=bearer(token)), 401, "invalid_token")
    assert client_count() == 0
    event = db.session.scalar(select(AuditEvent).filter_by(event="client_removed"))
    assert (event.client_id, event.details["via"]) == (body["client_id"], "registration_api")
