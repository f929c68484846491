"""The token endpoint's fast path (idp.oidc.token_fast) answers exactly as the view would.

A teleservice's back end exchanging a code or refreshing, with HTTP Basic and nothing else, is
answered before Flask's hooks; every other token request goes to Flask and Authlib unchanged,
and a request the fast path cannot grant changes nothing before Flask gives the RFC 6749 answer.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from werkzeug.test import Client

from idp.extensions import db
from idp.models import Account, Disclosure, Token
from idp.models import Client as ClientModel
from idp.models.accounts import LOCKED
from idp.oidc import disclosures, tokens
from idp.passwords import secret_hash
from tests.oidc_client import OIDCClient, basic_auth
from tests.test_userinfo_fast import HTTPS, backend, dispatched_by_flask, metric

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def refresh_token(rp: OIDCClient, factory) -> str:
    account, password = factory.account()
    return rp.tokens_for(account.identifier, password)["refresh_token"]


def post_token(client: Client, rp: OIDCClient, body: str, **headers: str):
    auth = basic_auth(rp.client_id, rp.client_secret)
    return client.post("/token", data=body, headers={**auth, **FORM, **headers})


def plain(refresh: str) -> str:
    return f"grant_type=refresh_token&refresh_token={refresh}"


def exchange_form(rp: OIDCClient, code: str, **changes: str) -> str:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": rp.verifier,
        **changes,
    }
    return urlencode(form)


def signed_in_code(rp: OIDCClient, factory) -> str:
    """A code from a browser signed in as a new parent (rp.verifier and rp.nonce are its)."""
    account, password = factory.account()
    return rp.code_for(account.identifier, password)


def flask_token(app) -> Client:
    """A client of the stack behind the fast path: Flask's answer (and the userinfo layer)."""
    db.session.commit()
    return Client(app.extensions["idp_token_fast"].wsgi_app, use_cookies=False)


def test_a_plain_refresh_is_answered_before_flask_as_the_grant_answers(app, rp, factory):
    first, second = refresh_token(rp, factory), refresh_token(rp, factory)

    with dispatched_by_flask(app) as seen:
        fast = post_token(backend(app), rp, plain(first))
    assert seen == []
    with dispatched_by_flask(app) as seen:
        view = post_token(flask_token(app), rp, plain(second))
    assert seen == ["/token"]

    assert fast.status_code == view.status_code == 200
    drop = {"Content-Length"}
    assert sorted((k, v) for k, v in fast.headers.items() if k not in drop) == sorted(
        (k, v) for k, v in view.headers.items() if k not in drop
    )
    tokens_fast, tokens_view = fast.get_json(), view.get_json()
    assert list(tokens_fast) == list(tokens_view)  # the same members, in the same order
    for member in ("token_type", "expires_in", "scope"):
        assert tokens_fast[member] == tokens_view[member]
    assert tokens_fast["refresh_token"] != first  # rotated

    # The new tokens work; the spent one is refused, and its replay ends the whole family.
    assert rp.userinfo(tokens_fast["access_token"]).status_code == 200
    replay = post_token(backend(app), rp, plain(first))
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    rotated = post_token(backend(app), rp, plain(tokens_fast["refresh_token"]))
    assert rotated.status_code == 400 and rotated.get_json()["error"] == "invalid_grant"


def test_under_an_https_issuer_behind_a_proxy_it_answers_https_only(make_app, rp, factory):
    refresh = refresh_token(rp, factory)
    secure = make_app(ISSUER=HTTPS, TRUSTED_PROXIES=1)
    with dispatched_by_flask(secure) as seen:
        plain_http = post_token(backend(secure), rp, plain(refresh))
        forwarded = post_token(
            backend(secure), rp, plain(refresh), **{"X-Forwarded-Proto": "https"}
        )
    assert seen == ["/token"]  # plain http: refused by the view, nothing spent
    assert plain_http.status_code == 400
    assert forwarded.status_code == 200 and "Strict-Transport-Security" in forwarded.headers


def test_both_paths_count_the_same_metrics(app, rp, factory):
    refreshes = [refresh_token(rp, factory) for _ in range(2)]
    labels = {"endpoint": "oidc.token", "method": "POST", "status": "200"}
    for client, refresh in zip((backend(app), flask_token(app)), refreshes, strict=True):
        requests = metric("idp_http_requests_total", **labels)
        issued = metric("idp_tokens_issued_total", grant="refresh_token")
        assert post_token(client, rp, plain(refresh)).status_code == 200
        assert metric("idp_http_requests_total", **labels) == requests + 1
        assert metric("idp_tokens_issued_total", grant="refresh_token") == issued + 1


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ("{plain}&scope=openid", {}, 200),  # a narrower scope: Authlib checks it
        ("{plain}&grant_type=refresh_token", {}, 400),  # repeated
        ("grant_type=refresh_token&refresh_token={refresh}%21", {}, 400),  # an escape
        ("{plain}", {"Cookie": "idp_session=x"}, 200),
        ("{plain}", {"Authorization": "basic {credentials}"}, 200),
        ("{plain}", {"Authorization": "Basic {wrong}"}, 401),
        ("{plain}&client_id={client_id}", {}, 200),
        ("grant_type=authorization_code&code={refresh}", {}, 400),
    ],
)
def test_every_other_token_request_goes_to_flask(app, rp, factory, body, headers, status):
    refresh = refresh_token(rp, factory)
    credentials = base64.b64encode(f"{rp.client_id}:{rp.client_secret}".encode()).decode()
    wrong = base64.b64encode(f"{rp.client_id}:not-the-secret".encode()).decode()
    values = {
        "plain": plain(refresh),
        "refresh": refresh,
        "client_id": rp.client_id,
        "credentials": credentials,
        "wrong": wrong,
    }
    filled = {name: value.format(**values) for name, value in headers.items()}
    with dispatched_by_flask(app) as seen:
        response = post_token(backend(app), rp, body.format(**values), **filled)
    assert seen == ["/token"]
    assert response.status_code == status, response.get_json()


def test_credentials_in_the_form_go_to_flask(app, rp, factory):
    """client_secret_post: Authlib decides (this client is registered for HTTP Basic)."""
    refresh = refresh_token(rp, factory)
    with dispatched_by_flask(app) as seen:
        response = rp.refresh(refresh, basic=False)
    assert seen == ["/token"]
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def issued_in_family(refresh: str) -> int:
    row = db.session.scalar(select(Token).filter_by(refresh_token=secret_hash(refresh)))
    return len(db.session.scalars(select(Token).filter_by(family=row.family)).all())


def test_a_refused_refresh_changes_nothing_before_flask_answers(app, rp, factory):
    """The account was locked: the fast path issues nothing (on PostgreSQL its one statement
    changes nothing; on SQLite it rolls back) and the grant answers invalid_grant."""
    refresh = refresh_token(rp, factory)
    row = db.session.scalar(select(Token).filter_by(refresh_token=secret_hash(refresh)))
    db.session.get(Account, row.account_id).status = LOCKED
    before = issued_in_family(refresh)
    with dispatched_by_flask(app) as seen:
        refused = post_token(backend(app), rp, plain(refresh))
    assert seen == ["/token"]
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    assert issued_in_family(refresh) == before


def test_a_database_error_in_the_fast_path_leaves_the_request_to_flask(
    app, rp, factory, monkeypatch
):
    refresh = refresh_token(rp, factory)
    calls = []

    def flaky(real):
        def call(*args):
            calls.append(real.__name__)
            if len(calls) == 1:
                raise OperationalError("UPDATE", {}, Exception("connection lost"))
            return real(*args)

        return call

    for name in ("claim_refresh_token", "rotate_refresh_token"):  # SQLite's, PostgreSQL's
        monkeypatch.setattr(tokens, name, flaky(getattr(tokens, name)))
    with dispatched_by_flask(app) as seen:
        answered = post_token(backend(app), rp, plain(refresh))
    assert seen == ["/token"] and calls[1:] == ["claim_refresh_token"]  # then the grant's
    assert answered.status_code == 200
    assert rp.userinfo(answered.get_json()["access_token"]).status_code == 200


def test_the_refresh_records_what_the_teleservice_received(app, rp, factory, monkeypatch):
    """GDPR art. 15 ("Mes données"): the disclosure row, its scopes sorted, as the grant
    writes it (idp.oidc.disclosures), even when it was gone."""
    refresh = refresh_token(rp, factory)
    row = db.session.scalar(select(Token).filter_by(refresh_token=secret_hash(refresh)))
    db.session.execute(delete(Disclosure).where(Disclosure.account_id == row.account_id))
    monkeypatch.setattr(disclosures, "_written", {})  # this process's memory of its writes
    with dispatched_by_flask(app) as seen:
        assert post_token(backend(app), rp, plain(refresh)).status_code == 200
    assert seen == []
    recorded = db.session.scalars(
        select(Disclosure).where(Disclosure.account_id == row.account_id)
    ).all()
    assert [(item.client_id, item.scope) for item in recorded] == [
        (rp.client_id, " ".join(sorted(set(row.scope.split()))))
    ]


def test_a_scope_no_longer_registered_is_left_to_the_grant(app, rp, factory):
    """The teleservice lost `email` since the sign-in: Authlib's token generator refuses the
    grant's scope (Client.get_allowed_scope); the fast path does not issue it either."""
    refresh = refresh_token(rp, factory)
    client = db.session.scalar(select(ClientModel).filter_by(client_id=rp.client_id))
    scope = " ".join(name for name in client.scope.split() if name != "email")
    client.set_client_metadata({**client.client_metadata, "scope": scope})
    db.session.commit()
    with dispatched_by_flask(app) as seen:
        refused = post_token(backend(app), rp, plain(refresh))
    assert seen == ["/token"]
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_scope"


def test_a_plain_code_exchange_is_answered_before_flask_as_the_view_answers(app, rp, factory):
    code = signed_in_code(rp, factory)
    with dispatched_by_flask(app) as seen:
        fast = post_token(backend(app), rp, exchange_form(rp, code))
    assert seen == []
    assert fast.status_code == 200, fast.get_json()
    tokens_fast = fast.get_json()
    claims = rp.id_token_claims(tokens_fast["id_token"])  # signature, iss, aud and nonce
    assert claims["children"] and rp.userinfo(tokens_fast["access_token"]).status_code == 200

    code = signed_in_code(rp, factory)
    with dispatched_by_flask(app) as seen:
        view = post_token(flask_token(app), rp, exchange_form(rp, code))
    assert seen == ["/token"]
    tokens_view = view.get_json()
    drop = {"Content-Length"}
    assert sorted((k, v) for k, v in fast.headers.items() if k not in drop) == sorted(
        (k, v) for k, v in view.headers.items() if k not in drop
    )
    assert list(tokens_fast) == list(tokens_view)
    assert set(claims) == set(rp.id_token_claims(tokens_view["id_token"]))


def test_a_code_works_once_and_its_replay_revokes_what_it_gave(app, rp, factory):
    code = signed_in_code(rp, factory)
    issued = post_token(backend(app), rp, exchange_form(rp, code)).get_json()
    with dispatched_by_flask(app) as seen:
        replay = post_token(backend(app), rp, exchange_form(rp, code))
    assert seen == ["/token"]
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert rp.userinfo(issued["access_token"]).status_code == 401
    refused = post_token(backend(app), rp, plain(issued["refresh_token"]))
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "changes",
    [
        {"code_verifier": "x" * 64},  # PKCE: not the verifier of the challenge
        {"redirect_uri": "https://elsewhere.example/cb"},
    ],
)
def test_a_refused_exchange_is_answered_by_flask_and_spends_the_code(app, rp, factory, changes):
    code = signed_in_code(rp, factory)
    with dispatched_by_flask(app) as seen:
        refused = post_token(backend(app), rp, exchange_form(rp, code, **changes))
    assert seen == ["/token"]
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    again = post_token(backend(app), rp, exchange_form(rp, code))  # RFC 9700 §4.1.2: spent
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_an_exchange_with_more_than_the_plain_form_goes_to_flask(app, rp, factory):
    code = signed_in_code(rp, factory)
    with dispatched_by_flask(app) as seen:
        answered = post_token(backend(app), rp, exchange_form(rp, code, client_id=rp.client_id))
    assert seen == ["/token"] and answered.status_code == 200


def test_an_unexpected_failure_in_the_fast_path_leaves_the_exchange_to_flask(
    app, rp, factory, monkeypatch
):
    """Not gunicorn's bare 500: the fast path rolls back (the code unspent) and Flask answers."""
    code = signed_in_code(rp, factory)
    save = tokens.save_token
    calls = []

    def failing_once(*args):
        calls.append(args[1])
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return save(*args)

    monkeypatch.setattr(tokens, "save_token", failing_once)
    with dispatched_by_flask(app) as seen:
        answered = post_token(backend(app), rp, exchange_form(rp, code))
    assert seen == ["/token"] and calls == ["authorization_code"] * 2
    assert answered.status_code == 200 and "id_token" in answered.get_json()
