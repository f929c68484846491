"""Mail that is never lost (issue 10): the activation with the SMTP server down for 10 s, then
back; and with the provider restarted in between. Real SMTP server, real waiting: the sender
thread retries on its own, as `idp serve` does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select

from idp import outbox
from idp.extensions import db
from idp.models import Account, Flow, OutboxItem
from idp.models.accounts import PENDING_EMAIL
from idp.models.outbox import PENDING, SENT
from idp.passwords import secret_hash
from tests.conftest import Browser
from tests.factories import Factory
from tests.mailbox import Mailbox, links_in
from tests.oidc_client import OIDCClient, csrf_token

EMAIL = "anais@example.org"
NEW_PASSWORD = "Trousse-Verte-88"
BIRTHDATE = "14/02/2016"  # Noé's, the first child of tests/factories.py
QUICK = {"OUTBOX_BACKOFF": 0.2}  # retries after 0.2, 0.4, 0.8… s: a few within the 10 s outage


@contextmanager
def provider(make_app, mailbox: Mailbox) -> Iterator[Flask]:
    """A provider process: the app, its sender thread, and its database pool, until it stops."""
    app = make_app(SMTP_URL=mailbox.url, **QUICK)
    app.test_client_class = Browser
    sender = outbox.start_sender(app, interval=0.2)
    try:
        with app.app_context():
            yield app
            db.session.remove()
    finally:
        sender.stop()
        with app.app_context():
            db.engine.dispose()


def submit_activation(app: Flask) -> tuple[int, int]:
    """A letter signs in and sends the activation form; returns (the account's id, status)."""
    account, letter_password = Factory(app).account(status="provisional", email=None)
    browser = app.test_client()
    OIDCClient(browser, "", None, "").sign_in(account.identifier, letter_password)
    form = browser.get("/activation")
    response = browser.post(
        "/activation",
        data={
            "email": EMAIL,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "child_birthdate": BIRTHDATE,
            "csrf_token": csrf_token(form.get_data(as_text=True)),
        },
    )
    assert 'data-message-id="activation.mail_on_its_way"' in response.get_data(as_text=True)
    return account.id, response.status_code


def queued() -> OutboxItem:
    db.session.expire_all()
    (row,) = db.session.scalars(select(OutboxItem))
    return row


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def assert_the_mail_link_is_live(mailbox: Mailbox, account_id: int) -> None:
    """Exactly one mail, whose link is the account's live confirmation link."""
    time.sleep(1)  # a second copy would have arrived by now
    (mail,) = mailbox.to(EMAIL)
    (link,) = links_in(mail)
    token = urlsplit(link).path.rsplit("/", 1)[-1]
    db.session.expire_all()
    flow = db.session.scalar(select(Flow).filter_by(token_hash=secret_hash(token)))
    assert flow is not None and flow.account_id == account_id and flow.state == "sent"
    assert flow.mailed_at is not None
    assert db.session.get(Account, account_id).status == PENDING_EMAIL


def test_smtp_down_for_10_s_during_activation_then_up_one_mail_arrives(make_app, mailbox):
    with provider(make_app, mailbox) as app:
        mailbox.stop()
        started = time.monotonic()
        account_id, status = submit_activation(app)

        assert status == 200  # the page does not wait for SMTP: the mail is on its way
        time.sleep(max(0.0, 10 - (time.monotonic() - started)))
        row = queued()
        assert row.state == PENDING and row.attempts >= 3 and mailbox.messages == []
        assert row.last_error == "MailError: ConnectionRefusedError"

        mailbox.start()
        assert len(mailbox.to(EMAIL, timeout=30)) == 1
        wait_for(lambda: queued().state == SENT, timeout=10)
        assert_the_mail_link_is_live(mailbox, account_id)


def test_a_provider_restart_while_smtp_is_down_loses_nothing(make_app, mailbox):
    mailbox.stop()
    with provider(make_app, mailbox) as first:
        account_id, status = submit_activation(first)
        assert status == 200
        wait_for(lambda: queued().attempts >= 1, timeout=10)  # tried, failed, waiting
    # The first provider is gone (its thread stopped, its pool closed); the server comes back.
    mailbox.start()
    assert mailbox.to(EMAIL, timeout=1) == []

    with provider(make_app, mailbox):
        assert len(mailbox.to(EMAIL, timeout=30)) == 1
        wait_for(lambda: queued().state == SENT, timeout=10)
        assert_the_mail_link_is_live(mailbox, account_id)
