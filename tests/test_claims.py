"""What a relying teleservice learns about a family: discovery, keys, ID tokens and subjects.

A teleservice reads the discovery document, fetches the JWKS, verifies the ID token it receives
and reads the parent's claims by scope (docs/contract.md §3): `sub` only with `openid`, names with
`profile`, the address with `email`, and the linked children with `children`. A `public` client
sees the parent's opaque id and each child's school reference; `pairwise` clients see per-client
pseudonyms that no two teleservices can correlate. Keys rotate without a restart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from idp.models import Link
from idp.oidc.keys import RECHECK_SECONDS, KeyStore
from tests.factories import CHILDREN
from tests.oidc_client import DISCOVERY, OIDCClient

PROFILE = {"given_name", "family_name", "name", "locale"}
EMAIL = {"email", "email_verified"}


def in_new_browser(rp: OIDCClient, app) -> OIDCClient:
    """The same teleservice, for a sign-in from another browser (no SSO session)."""
    return OIDCClient(app.test_client(), rp.client_id, rp.client_secret, rp.redirect_uri)


def header_of(token: str) -> dict:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def subjects(claims: dict) -> tuple[str, list[str]]:
    return claims["sub"], [child["sub"] for child in claims["children"]]


# 1. Discovery


def test_discovery_advertises_endpoints_and_capabilities(app, browser):
    response = browser.get(DISCOVERY)
    assert response.status_code == 200 and response.is_json
    doc = response.get_json()
    issuer = app.config["ISSUER"]

    assert doc["issuer"] == issuer
    methods = {
        "authorization_endpoint": "GET",
        "token_endpoint": "POST",
        "userinfo_endpoint": "GET",
        "jwks_uri": "GET",
        "revocation_endpoint": "POST",
        "end_session_endpoint": "GET",
    }
    for name, method in methods.items():
        assert doc[name].startswith(issuer + "/"), name
        served = browser.open(urlsplit(doc[name]).path, method=method)
        assert served.status_code not in (404, 405) and served.status_code < 500, name
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert {"RS256", "ES256"} <= set(doc["id_token_signing_alg_values_supported"])
    assert {"public", "pairwise"} <= set(doc["subject_types_supported"])
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "email", "children"} <= set(doc["scopes_supported"])
    assert "code" in doc["response_types_supported"]
    assert {"authorization_code", "refresh_token"} <= set(doc["grant_types_supported"])


# 2. Signing keys and algorithms


def test_id_token_kid_is_published_and_alg_follows_the_client(rp, new_rp, factory):
    account, password = factory.account()
    published = {key["kid"]: key for key in rp.jwks()["keys"]}
    assert all("d" not in key for key in published.values())  # public parts only

    header = header_of(rp.tokens_for(account.identifier, password)["id_token"])
    assert header["alg"] == "RS256"
    assert published[header["kid"]]["kty"] == "RSA"

    es = new_rp(id_token_signed_response_alg="ES256")
    id_token = es.tokens_for(account.identifier, password)["id_token"]
    header = header_of(id_token)
    assert header["alg"] == "ES256"
    assert published[header["kid"]]["kty"] == "EC"
    assert es.id_token_claims(id_token, algorithms=["ES256"])["sub"] == account.public_id


# 3. Claims by scope


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid", set()),
        ("openid profile", PROFILE),
        ("openid email", EMAIL),
        ("openid children", {"children"}),
    ],
)
def test_claims_follow_the_granted_scope(new_rp, factory, scope, expected):
    account, password = factory.account()
    client = new_rp(scope=scope)
    tokens = client.tokens_for(account.identifier, password, scope=scope)
    claims = client.id_token_claims(tokens["id_token"])

    assert claims["sub"] == account.public_id
    assert claims.keys() & (PROFILE | EMAIL | {"children"}) == expected
    response = client.userinfo(tokens["access_token"])
    assert response.status_code == 200
    userinfo = response.get_json()
    assert userinfo.keys() == {"sub"} | expected
    assert userinfo == {name: claims[name] for name in userinfo}
    if "children" in expected:
        assert len(claims["children"]) == 2
        assert claims["children"][0] == {
            "sub": account.children[0].ref,
            "given_name": "Noé",
            "family_name": "Lefèvre",
            "school": {"uai": "0751234J", "name": "École Jules-Ferry"},
            "class_level": "CE2",
        }
    if "email" in expected:
        assert (claims["email"], claims["email_verified"]) == ("anais@example.org", True)
    if "name" in expected:
        assert claims["name"] == "Anaïs Lefèvre"


# 4. Subjects


def test_public_and_pairwise_subjects(app, rp, new_rp, factory):
    account, password = factory.account()
    refs = [child.ref for child in account.children]

    public = subjects(rp.claims_for(account.identifier, password))
    assert public == (account.public_id, refs)
    assert account.identifier not in public[0]

    lsu = new_rp(name="LSU pairwise", subject_type="pairwise")
    cantine = new_rp(name="Cantine pairwise", subject_type="pairwise")
    first = subjects(lsu.claims_for(account.identifier, password))
    again = subjects(in_new_browser(lsu, app).claims_for(account.identifier, password))
    other = subjects(cantine.claims_for(account.identifier, password))

    assert first == again  # stable across sign-ins
    for pseudonyms in (first, other):
        assert pseudonyms[0] != public[0]
        assert all(a != b for a, b in zip(pseudonyms[1], refs, strict=True))
    assert first[0] != other[0]  # no correlation of the parent between pairwise clients
    assert all(a != b for a, b in zip(first[1], other[1], strict=True))  # nor of a child
    assert len(set(first[1])) == len(refs)


# 5. Standard ID token claims


def test_id_token_carries_nonce_audience_issuer_times_and_at_hash(app, rp, factory):
    account, password = factory.account()
    before = int(time.time())
    tokens = rp.tokens_for(account.identifier, password)
    claims = rp.id_token_claims(tokens["id_token"])

    assert claims["nonce"] == rp.nonce
    assert claims["aud"] == rp.client_id
    assert claims["iss"] == app.config["ISSUER"]
    assert before - 1 <= claims["iat"] <= time.time() + 1
    assert claims["exp"] > claims["iat"]
    assert before - 5 <= claims["auth_time"] <= claims["iat"]
    digest = hashlib.sha256(tokens["access_token"].encode("ascii")).digest()
    at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")
    assert claims["at_hash"] == at_hash  # OIDC Core §3.1.3.6


# 6. Shared children


def test_each_parent_sees_only_their_own_children(app, rp, factory):
    mother, password = factory.account()
    father, father_password = factory.account(
        given_name="Karim", family_name="Lefèvre", email="karim@example.org", children=[]
    )
    shared = mother.children[0]
    father.links.append(Link(child=shared))
    db.session.commit()
    cousin, _ = factory.account(given_name="Léa", children=CHILDREN[:1])

    mother_claims = rp.claims_for(mother.identifier, password)
    father_claims = in_new_browser(rp, app).claims_for(father.identifier, father_password)

    assert (mother_claims["sub"], father_claims["sub"]) == (mother.public_id, father.public_id)
    assert subjects(mother_claims)[1] == [child.ref for child in mother.children]
    assert subjects(father_claims)[1] == [shared.ref]
    assert father_claims["children"][0] == mother_claims["children"][0]
    assert cousin.children[0].ref not in subjects(mother_claims)[1]


# 7. Key rotation


def test_rotated_key_signs_new_tokens_and_old_key_stays_published(app, rp, factory):
    account, password = factory.account()
    old_token = rp.tokens_for(account.identifier, password)["id_token"]
    old_kid = header_of(old_token)["kid"]

    # As `idp keys rotate` would, from another process: the running app must notice by itself.
    new_rs256_kid, new_es256_kid = KeyStore(app.config["KEYS_DIR"]).add_keys()
    time.sleep(RECHECK_SECONDS + 0.1)

    new_token = rp.tokens_for(account.identifier, password)["id_token"]
    assert header_of(new_token)["kid"] == new_rs256_kid != old_kid
    published = {key["kid"] for key in rp.jwks()["keys"]}
    assert {old_kid, new_rs256_kid, new_es256_kid} <= published
    assert rp.id_token_claims(new_token)["sub"] == account.public_id
    jwks = KeySet.import_key_set(rp.jwks())
    assert jwt.decode(old_token, jwks, algorithms=["RS256"]).claims["sub"] == account.public_id
