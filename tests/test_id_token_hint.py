"""`id_token_hint` at /authorize (OpenID Connect Core §3.1.2.1): only an ID token this provider
issued to this client counts; a forged one is `invalid_request`, one naming another parent than
the signed-in one is `login_required`, an expired one is still a good hint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.oidc_client import OIDCClient, query_of


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def unsigned(header: dict, payload: dict, signature: str = "") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{signature}"


def hs256_with(secret: bytes, header: dict, payload: dict) -> str:
    head = unsigned({**header, "alg": "HS256"}, payload, "")[:-1]
    mac = hmac.new(secret, head.encode("ascii"), hashlib.sha256).digest()
    return f"{head}.{b64(mac)}"


def foreign_signed(header: dict, payload: dict) -> str:
    key = RSAKey.generate_key(2048, private=True)
    extra = {k: v for k, v in header.items() if k != "jwk"}
    if header.get("jwk") == "embed":
        extra["jwk"] = key.as_dict(private=False)
    return jwt.encode({**extra, "alg": "RS256"}, payload, key)


@pytest.fixture
def signed_in(rp: OIDCClient, factory):
    """A parent signed in, holding an ID token of `rp`; returns (account, id_token)."""
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    return account, tokens["id_token"]


def authorize_with_hint(rp: OIDCClient, hint: str, **extra) -> dict[str, str]:
    response = rp.authorize(id_token_hint=hint, **extra)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.startswith(rp.redirect_uri)
    return query_of(response.location)


def test_a_valid_hint_for_the_signed_in_parent_gets_a_code(rp, signed_in):
    _, id_token = signed_in
    assert "code" in authorize_with_hint(rp, id_token)
    assert "code" in authorize_with_hint(rp, id_token, prompt="none")


def test_forged_hints_are_invalid_requests(rp, signed_in, app):
    _, id_token = signed_in
    header, payload, signature = parts(id_token)
    public_pem = app.extensions["idp_keys"].signing_key("RS256").as_pem(private=False)
    forged = {
        "edited payload": unsigned(header, {**payload, "sub": "someone-else"}, signature),
        "alg none": unsigned({**header, "alg": "none"}, payload),
        "HS256 with the public key": hs256_with(public_pem, header, payload),
        "a foreign key under our kid": foreign_signed(header, payload),
        "an embedded jwk": foreign_signed({**header, "jwk": "embed"}, payload),
        "a jku": foreign_signed({**header, "jku": "https://evil.example/jwks.json"}, payload),
        "not a JWT": "garbage",
        "another issuer": foreign_signed(header, {**payload, "iss": "https://evil.example"}),
    }
    for name, hint in forged.items():
        params = authorize_with_hint(rp, hint)
        assert params.get("error") == "invalid_request", name
        assert "code" not in params and params["state"] == rp.state, name


def test_a_hint_issued_to_another_client_is_invalid(rp, new_rp, signed_in):
    _, id_token = signed_in
    other = new_rp(redirect_uris=["https://cantine.example.org/callback"])
    assert authorize_with_hint(other, id_token)["error"] == "invalid_request"


def test_a_hint_for_another_parent_is_login_required(rp, signed_in, factory, app):
    _, id_token = signed_in
    other, password = factory.account(given_name="Marc", email="marc@example.org")
    browser = app.test_client()
    other_rp = OIDCClient(browser, rp.client_id, rp.client_secret, rp.redirect_uri)
    other_rp.code_for(other.identifier, password)
    params = authorize_with_hint(other_rp, id_token)
    assert params["error"] == "login_required" and "code" not in params


def test_an_expired_hint_is_still_a_hint(rp, signed_in, app):
    _, id_token = signed_in
    header, payload, _ = parts(id_token)
    key = app.extensions["idp_keys"].signing_key("RS256")
    old = {**payload, "iat": int(time.time()) - 86400, "exp": int(time.time()) - 82800}
    expired = jwt.encode(header, old, key)
    assert "code" in authorize_with_hint(rp, expired)
