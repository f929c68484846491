"""Userinfo's fast path (idp.oidc.userinfo_fast) answers exactly as the Flask view would.

A teleservice's back end asking `GET /userinfo` with a valid bearer token is answered before
Flask's hooks; every other request (errors, POST, cookies, odd spellings) goes to the view and
Authlib unchanged. Both paths are compared here, for the same token, header by header.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask, request_started
from prometheus_client import REGISTRY
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from werkzeug.test import Client

from idp.extensions import db
from idp.models import Account, Token
from idp.models import Client as ClientModel
from idp.models.accounts import LOCKED
from idp.oidc import tokens
from idp.oidc.clients import cache as client_cache
from idp.passwords import secret_hash
from tests.factories import CHILDREN
from tests.oidc_client import OIDCClient, bearer
from tests.statements import statements

HTTPS = "https://idp.example.org"


@contextmanager
def dispatched_by_flask(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests Flask itself handled inside the block."""
    seen: list[str] = []

    def note(sender, **extra) -> None:
        from flask import request

        seen.append(request.path)

    with request_started.connected_to(note, app):
        yield seen


def flask_view(app: Flask) -> Client:
    """A client of the Flask application behind the fast path: the view's own answer."""
    db.session.commit()
    return Client(app.extensions["idp_userinfo_fast"].wsgi_app, use_cookies=False)


def backend(app: Flask) -> Client:
    """A teleservice's back end: no cookie, the whole WSGI stack (the fast path in front)."""
    db.session.commit()
    return Client(app.wsgi_app, use_cookies=False)


def answer(response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.items()), response.get_data()


def access_token(rp: OIDCClient, factory, **overrides) -> str:
    account, password = factory.account()
    return rp.tokens_for(account.identifier, password, **overrides)["access_token"]


@pytest.mark.parametrize(
    ("client_options", "scope"),
    [
        ({}, "openid profile email children"),
        ({}, "openid profile"),
        ({"subject_type": "pairwise", "schools": [CHILDREN[0].school_uai]}, "openid children"),
        ({"subject_type": "pairwise", "schools": ["0999999Z"]}, "openid email children"),
    ],
)
def test_the_fast_path_answers_as_the_view_does(app, new_rp, factory, client_options, scope):
    rp = new_rp(scope=scope, **client_options)
    token = access_token(rp, factory, scope=scope)

    with dispatched_by_flask(app) as seen:
        fast = backend(app).get("/userinfo", headers=bearer(token))
    assert seen == []  # answered before Flask
    with dispatched_by_flask(app) as seen:
        view = flask_view(app).get("/userinfo", headers=bearer(token))
    assert seen == ["/userinfo"]

    assert fast.status_code == 200
    assert answer(fast) == answer(view)
    assert set(fast.get_json()) >= {"sub"}


def test_under_an_https_issuer_behind_a_proxy_the_answers_match(make_app, rp, factory):
    """The fast path sits behind ProxyFix: it sees the scheme the views see (HSTS included)."""
    token = access_token(rp, factory)
    secure = make_app(ISSUER="https://idp.example.org", TRUSTED_PROXIES=1)
    forwarded = {**bearer(token), "X-Forwarded-Proto": "https"}

    with dispatched_by_flask(secure) as seen:
        fast = backend(secure).get("/userinfo", headers=forwarded)
        fast_https = backend(secure).get("/userinfo", headers=bearer(token), base_url=HTTPS)
    assert seen == []
    view = flask_view(secure).get("/userinfo", headers=bearer(token), base_url=HTTPS)
    assert fast.status_code == 200 and "Strict-Transport-Security" in fast.headers
    assert answer(fast) == answer(fast_https) == answer(view)

    with dispatched_by_flask(secure) as seen:
        plain_http = backend(secure).get("/userinfo", headers=bearer(token))
    assert seen == ["/userinfo"]
    assert plain_http.status_code == 400  # https is required: the view says so


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_both_paths_count_the_same_metrics(app, rp, factory):
    token = access_token(rp, factory)
    labels = {"endpoint": "oidc.userinfo", "method": "GET", "status": "200"}
    for client in (backend(app), flask_view(app)):
        requests = metric("idp_http_requests_total", **labels)
        timed = metric("idp_http_request_duration_seconds_count", endpoint="oidc.userinfo")
        assert client.get("/userinfo", headers=bearer(token)).status_code == 200
        assert metric("idp_http_requests_total", **labels) == requests + 1
        assert (
            metric("idp_http_request_duration_seconds_count", endpoint="oidc.userinfo") == timed + 1
        )


@pytest.mark.parametrize(
    "variant",
    [
        {"method": "POST"},
        {"method": "HEAD"},
        {"query_string": "x=1"},
        {"headers": {"Cookie": "other=1"}},
        {"headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"authorization": "bearer {}"},
        {"authorization": "Bearer  {}"},
        {"authorization": "Bearer {}!"},
        {"authorization": "Bearer {}" + "x" * 300},
    ],
)
def test_every_other_request_goes_to_the_view_unchanged(app, rp, factory, variant):
    token = access_token(rp, factory)
    headers = {
        "Authorization": variant.get("authorization", "Bearer {}").format(token),
        **variant.get("headers", {}),
    }
    request = {
        "method": variant.get("method", "GET"),
        "headers": headers,
        "query_string": variant.get("query_string"),
    }

    with dispatched_by_flask(app) as seen:
        through_stack = backend(app).open("/userinfo", **request)
    assert seen == ["/userinfo"]
    assert answer(through_stack) == answer(flask_view(app).open("/userinfo", **request))


def _revoke(token: str) -> None:
    db.session.execute(
        update(Token)
        .where(Token.access_token == secret_hash(token))
        .values(access_token_revoked_at=int(time.time()))
    )


def _expire(token: str) -> None:
    db.session.execute(
        update(Token)
        .where(Token.access_token == secret_hash(token))
        .values(issued_at=int(time.time()) - 7200, expires_in=3600)
    )


def _lock(token: str) -> None:
    row = db.session.scalar(select(Token).filter_by(access_token=secret_hash(token)))
    db.session.get(Account, row.account_id).status = LOCKED


def _unknown_client(token: str) -> None:
    db.session.execute(
        update(Token)
        .where(Token.access_token == secret_hash(token))
        .values(client_id="no-longer-registered")
    )


def _no_openid(token: str) -> None:
    db.session.execute(
        update(Token).where(Token.access_token == secret_hash(token)).values(scope="profile email")
    )


@pytest.mark.parametrize(
    ("spoil", "status", "error"),
    [
        (None, 401, "invalid_token"),  # unknown
        (_revoke, 401, "invalid_token"),
        (_expire, 401, "invalid_token"),
        (_lock, 401, "invalid_token"),
        (_unknown_client, 401, "invalid_token"),
        (_no_openid, 403, "insufficient_scope"),  # never issued: Authlib's answer
    ],
)
def test_refused_tokens_get_the_views_rfc6750_error_in_one_statement(
    app, rp, factory, spoil, status, error
):
    token = access_token(rp, factory)
    if spoil is None:
        token = "unknown-token"
    else:
        spoil(token)
    db.session.commit()

    with dispatched_by_flask(app) as seen, statements() as sent:
        refused = backend(app).get("/userinfo", headers=bearer(token))
    assert seen == ["/userinfo"]
    assert sum("FROM token" in statement for statement in sent) == 1  # the view reuses it
    assert refused.status_code == status
    assert refused.get_json()["error"] == error
    assert answer(refused) == answer(flask_view(app).get("/userinfo", headers=bearer(token)))


def test_a_client_wanting_signed_userinfo_gets_it_from_the_view(app, rp, factory):
    token = access_token(rp, factory)
    client = db.session.scalar(select(ClientModel).filter_by(client_id=rp.client_id))
    client.set_client_metadata({**client.client_metadata, "userinfo_signed_response_alg": "RS256"})
    db.session.commit()
    client_cache.forget()

    with dispatched_by_flask(app) as seen:
        signed = backend(app).get("/userinfo", headers=bearer(token))
    assert seen == ["/userinfo"]
    assert signed.status_code == 200
    assert signed.headers["Content-Type"] == "application/jwt"


def test_a_database_error_in_the_fast_path_is_answered_by_the_view(app, rp, factory, monkeypatch):
    """As if the view had met it: one 503 asking to retry (idp.errors), one attempt only."""
    token = access_token(rp, factory)
    calls = []
    find = tokens.find_access_token

    def flaky(value: str):
        calls.append(value)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, Exception("connection lost"))
        return find(value)

    monkeypatch.setattr(tokens, "find_access_token", flaky)
    with dispatched_by_flask(app) as seen:
        failed = backend(app).get("/userinfo", headers=bearer(token))
    assert seen == ["/userinfo"] and len(calls) == 1
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "30"

    with dispatched_by_flask(app) as seen:
        answered = backend(app).get("/userinfo", headers=bearer(token))
    assert seen == [] and len(calls) == 2
    assert answered.status_code == 200 and answered.get_json()["children"]
