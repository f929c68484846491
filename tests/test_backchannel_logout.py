"""Back-Channel Logout 1.0 over real HTTP: when a sign-in session ends, each teleservice that got
tokens in it and registered a back-channel logout URI receives a logout token (contract §3),
signed with a published key, with the ID token's `sid` and `sub`; delivery never delays the
parent's page, is retried while the teleservice fails, survives a restart of the provider and
is in the audit trail."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from idp import outbox
from idp.accounts import events, lifecycle
from idp.extensions import db
from idp.models import AuditEvent
from idp.models.accounts import ACTIVE
from idp.models.outbox import PENDING, OutboxItem
from idp.passwords import hash_password
from idp.provisioning import helpdesk
from tests.conftest import Browser
from tests.factories import Factory
from tests.oidc_client import OIDCClient, csrf_token

EVENT = "http://schemas.openid.net/event/backchannel-logout"
POST_LOGOUT = "https://lsu.example.org/"
CALLBACK = "https://lsu.example.org/callback"  # the factory's redirect URI


class Teleservice:
    """A teleservice's back-channel logout endpoint: records each POST, answers as told."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.answers: list[int] = []  # status codes to give, in order; then 200
        self.delay = 0.0
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/backchannel-logout"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wsgi(self, environ, start_response):
        request = Request(environ)
        time.sleep(self.delay)
        self.received.append(request.form.get("logout_token", ""))
        status = self.answers.pop(0) if self.answers else 200
        return Response("", status=status)(environ, start_response)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"{len(self.received)} of {count} logout tokens"
        return self.received

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture
def teleservice() -> Iterator[Teleservice]:
    stub = Teleservice()
    yield stub
    stub.stop()


def with_backchannel(new_rp, teleservice: Teleservice, **options) -> OIDCClient:
    return new_rp(backchannel_logout_uri=teleservice.url, **options)


def sign_out(rp: OIDCClient, id_token: str):
    return rp.browser.get(
        rp.endpoint("end_session_endpoint"),
        query_string={"id_token_hint": id_token, "post_logout_redirect_uri": POST_LOGOUT},
    )


def verified(rp: OIDCClient, logout_token: str) -> tuple[dict, dict]:
    """The logout token checked as a teleservice must (§2.6): signature by a published key."""
    keys = KeySet.import_key_set(rp.jwks())
    token = jwt.decode(logout_token, keys, algorithms=["RS256", "ES256"])
    return dict(token.header), dict(token.claims)


def audit_events(name: str, count: int = 0, timeout: float = 5.0) -> list[AuditEvent]:
    """The audit events called ``name``, once there are ``count`` (written after the POST)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        found = list(db.session.scalars(select(AuditEvent).filter_by(event=name)))
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_logout_token_per_teleservice_with_the_id_tokens_sid_and_sub(
    rp, new_rp, factory, teleservice
):
    account, password = factory.account()
    pairwise = with_backchannel(new_rp, teleservice, subject_type="pairwise", name="Cantine")
    id_claims = pairwise.claims_for(account.identifier, password)
    lsu_tokens = rp.tokens_for(account.identifier, password)  # no back-channel URI: no token

    started = time.monotonic()
    assert sign_out(rp, lsu_tokens["id_token"]).status_code == 302
    assert time.monotonic() - started < 2

    (logout_token,) = teleservice.wait_for(1)
    header, claims = verified(pairwise, logout_token)
    assert header["typ"] == "logout+jwt" and header["kid"]
    assert claims["iss"] == pairwise.metadata["issuer"]
    assert claims["aud"] == pairwise.client_id
    assert claims["sub"] == id_claims["sub"] != account.public_id
    assert claims["sid"] == id_claims["sid"]
    assert claims["events"] == {EVENT: {}}
    assert claims["jti"] and claims["iat"] <= time.time() < claims["exp"]
    assert "nonce" not in claims
    delivered = audit_events("backchannel_logout_delivered", 1)
    assert [(e.client_id, e.account_id) for e in delivered] == [(pairwise.client_id, account.id)]
    time.sleep(0.5)
    assert len(teleservice.received) == 1


def test_the_parents_page_never_waits_for_a_slow_teleservice(rp, new_rp, factory, teleservice):
    account, password = factory.account()
    teleservice.delay = 3
    canteen = with_backchannel(new_rp, teleservice)
    id_token = canteen.tokens_for(account.identifier, password)["id_token"]
    started = time.monotonic()
    assert sign_out(canteen, id_token).status_code == 302
    assert time.monotonic() - started < 1.5
    teleservice.wait_for(1)


def test_a_failing_teleservice_gets_it_again_until_it_answers(new_rp, factory, teleservice):
    account, password = factory.account()
    teleservice.answers = [500, 503]
    canteen = with_backchannel(new_rp, teleservice)
    id_token = canteen.tokens_for(account.identifier, password)["id_token"]
    sign_out(canteen, id_token)

    tokens = teleservice.wait_for(3, timeout=15)
    assert len({verified(canteen, token)[1]["sid"] for token in tokens}) == 1
    failures = audit_events("backchannel_logout_failed", 2)
    assert [e.details["status"] for e in failures] == [500, 503]
    assert len(audit_events("backchannel_logout_delivered", 1)) == 1


def test_a_teleservice_that_got_no_tokens_in_the_session_is_not_told(new_rp, factory, teleservice):
    account, password = factory.account()
    canteen = with_backchannel(new_rp, teleservice)
    other = new_rp(redirect_uris=["https://autre.example.org/cb"])
    id_token = other.tokens_for(account.identifier, password)["id_token"]
    canteen.code_for(account.identifier, password)  # a code, never exchanged: no tokens
    sign_out(other, id_token)
    time.sleep(1)
    assert teleservice.received == []


def test_the_delivery_survives_a_restart_of_the_provider(make_app, mailbox, teleservice):
    """Queued while no sender runs (the provider stops right after the logout), delivered by
    the next provider process, from the database."""
    first = make_app(SMTP_URL=mailbox.url)
    first.test_client_class = Browser
    with first.app_context():
        factory = Factory(first)
        account, password = factory.account()
        client, secret = factory.client(backchannel_logout_uri=teleservice.url)
        client_id = client.client_id
        rp = OIDCClient(first.test_client(), client.client_id, secret, client.redirect_uris[0])
        id_token = rp.tokens_for(account.identifier, password)["id_token"]
        sign_out(rp, id_token)
        pending = db.session.scalars(select(OutboxItem).filter_by(state=PENDING)).all()
        assert [item.kind for item in pending] == ["backchannel_logout"]
        db.session.remove()
    time.sleep(0.5)
    assert teleservice.received == []

    restarted = make_app(SMTP_URL=mailbox.url)
    with restarted.app_context():
        assert outbox.deliver_due() == 1
    (token,) = teleservice.received
    assert verified(rp, token)[1]["aud"] == client_id


def test_every_way_a_session_ends_tells_the_teleservice(new_rp, factory, teleservice, app):
    """Not only a logout: "Se déconnecter partout", the help desk's reset, a lock."""
    canteen = with_backchannel(new_rp, teleservice)
    account, password = factory.account()
    canteen.tokens_for(account.identifier, password)
    page = canteen.browser.get("/compte").get_data(as_text=True)
    canteen.browser.post("/compte/deconnexion-partout", data={"csrf_token": csrf_token(page)})
    teleservice.wait_for(1)

    for end in (
        lambda: helpdesk.reset_account(account),
        lambda: (lifecycle.lock(account, "test"), events.commit()),
    ):
        account.status, account.password_hash = ACTIVE, hash_password(password)
        db.session.commit()
        other = OIDCClient(app.test_client(), canteen.client_id, canteen.client_secret, CALLBACK)
        other.tokens_for(account.identifier, password)
        before = len(teleservice.received)
        end()
        teleservice.wait_for(before + 1)
    reasons = [e.details["reason"] for e in audit_events("backchannel_logout_delivered", 3)]
    assert reasons == ["signed_out_everywhere", "helpdesk_reset", "locked"]
