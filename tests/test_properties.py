"""Property-based tests (Hypothesis) over every form and endpoint: whatever arrives, never a 500,
and nothing changes that should not (issue 10, "Property-based tests").

Requests are drawn at random: the endpoint and method, parameters with random, oversized,
unicode or control-character values, known names given twice, nested JSON, odd Authorization
headers, as an anonymous visitor or a signed-in parent (active or provisional). CSRF tokens are
off on this app so that the values reach the forms' and services' own checks.

The normal suite runs a few dozen examples (seconds); a fuzz run sets IDP_TEST_FUZZ_EXAMPLES:
`IDP_TEST_FUZZ_EXAMPLES=10000 .venv/bin/pytest tests/test_properties.py -q -p no:randomly`.
"""

from __future__ import annotations

import base64
import json
import os
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, Client, Token
from tests.conftest import Browser
from tests.factories import Factory

EXAMPLES = int(os.environ.get("IDP_TEST_FUZZ_EXAMPLES", "40"))
FIELDS = [
    "identifier",
    "password",
    "email",
    "new_password",
    "new_password_confirm",
    "current_password",
    "child_birthdate",
    "csrf_token",
    "fresh",
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
    "request",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "token",
    "token_type_hint",
    "access_token",
    "id_token_hint",
    "post_logout_redirect_uri",
]
PAGES = [
    "/login",
    "/recovery/identifier",
    "/recovery/password",
    "/recovery/password/{token}",
    "/activation",
    "/activation/resend",
    "/activation/email",
    "/activation/not-guardian",
    "/activation/confirm/{token}",
    "/compte",
    "/compte/mot-de-passe",
    "/compte/adresse",
    "/compte/adresse/confirmer/{token}",
    "/compte/teleservices/{token}/revoquer",
    "/compte/sessions/{token}/terminer",
    "/compte/deconnexion-partout",
    "/",
    "/authorize",
    "/authorize/resume/{token}",
    "/token",
    "/userinfo",
    "/revoke",
    "/logout",
    "/register",
    "/register/{token}",
    "/.well-known/openid-configuration",
    "/jwks.json",
    "/healthz",
    "/readyz",
    "/{token}",
]
ODD = ["\\", '"', "'", "\t", "\r\n", "\x01", "\x7f", "é", "%", "%00", "../", "\u202e", "𝔸", "<a>"]

values = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=200),
    st.sampled_from(ODD),
    st.builds(lambda a, b: a + b, st.sampled_from(ODD), st.text(max_size=10)),
    st.integers(min_value=8_000, max_value=30_000).map(lambda n: "A" * n),
    st.sampled_from(["code", "S256", "openid", "https://lsu.example.org/callback", "-1", "0"]),
)
params = st.lists(
    st.tuples(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), values), max_size=8
)
json_documents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), values),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
deep_json = st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n)
authorizations = st.one_of(
    st.none(),
    values.map(lambda v: "Bearer " + v),
    values.map(lambda v: "Basic " + base64.b64encode(v.encode("utf-8")).decode()),
    st.sampled_from(["Basic", "Bearer", "Basic !!!", "Digest x"]),
)


@st.composite
def requests(draw):
    path = draw(st.sampled_from(PAGES)).format(token=quote(draw(values)[:300], safe=""))
    method = draw(st.sampled_from(["GET", "POST", "POST", "PUT", "DELETE"]))
    query = urlencode(draw(params))
    body_kind = draw(st.sampled_from(["form", "form", "json", "deep", "none"]))
    kwargs: dict = {"query_string": query, "headers": {}}
    if body_kind == "form":
        kwargs["data"] = urlencode(draw(params))
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    elif body_kind == "json":
        kwargs["data"] = json.dumps(draw(json_documents))
        kwargs["content_type"] = "application/json"
    elif body_kind == "deep":
        kwargs["data"] = draw(deep_json)
        kwargs["content_type"] = "application/json"
    authorization = draw(authorizations)
    if authorization is not None:
        kwargs["headers"]["Authorization"] = authorization.replace("\n", " ").replace("\r", " ")
    who = draw(st.sampled_from(["anonymous", "active", "provisional"]))
    return method, path, kwargs, who


@pytest.fixture
def fuzz_app(make_app, mailbox):
    app = make_app(SMTP_URL=mailbox.url, WTF_CSRF_ENABLED=False)
    app.test_client_class = Browser
    with app.app_context():
        yield app


@pytest.fixture
def visitors(fuzz_app):
    factory = Factory(fuzz_app)
    factory.client()
    active, password = factory.account()
    provisional, letter = factory.account(
        status="provisional", email=None, given_name="Paul", family_name="Durand"
    )
    browsers = {"anonymous": fuzz_app.test_client()}
    for name, (account, secret) in (
        ("active", (active, password)),
        ("provisional", (provisional, letter)),
    ):
        browser = fuzz_app.test_client()
        signed_in = browser.post(
            "/login", data={"identifier": account.identifier, "password": secret}
        )
        assert signed_in.status_code == 302
        browsers[name] = browser
    return browsers, active, provisional


def _state(active: Account, provisional: Account) -> tuple:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(Client)),
        db.session.scalar(select(func.count()).select_from(Token)),
        db.session.scalar(select(func.count()).select_from(Account)),
        active.email,
        active.password_hash,
        provisional.password_hash,
        provisional.email_verified,
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_no_request_gets_a_500_nor_changes_what_it_should_not(visitors, request):
    browsers, active, provisional = visitors
    before = _state(active, provisional)
    method, path, kwargs, who = request

    response = browsers[who].open(path, method=method, **kwargs)

    assert response.status_code < 500 or response.status_code == 503, (method, path, kwargs)
    assert _state(active, provisional) == before, (method, path, kwargs, who)
