"""The outbox (idp.outbox): queued in the caller's transaction, delivered once, retried with
backoff, given up after the last attempt; several senders at once never send a mail twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from idp import mail, outbox
from idp.extensions import db
from idp.flows import mailed_links
from idp.models import AuditEvent, Flow
from idp.models.base import utcnow
from idp.models.flows import EMAIL_CONFIRMATION
from idp.models.outbox import DROPPED, FAILED, PENDING, SENT, OutboxItem
from tests.factories import Factory
from tests.mailbox import Mailbox, text_of

SECRET = "s3cr3t-link-token-never-logged"
calls: list[dict] = []


class Unreachable(Exception):
    """A test handler's transient failure (the text quotes the payload, as real errors may)."""


@outbox.handler("test.flaky")
def flaky(payload: dict) -> None:
    calls.append(payload)
    if payload.get("fail", 0) > 0 and len(calls) <= payload["fail"]:
        raise Unreachable(f"could not post {payload['secret']}")


@outbox.handler("test.refused")
def refused(payload: dict) -> None:
    calls.append(payload)
    raise outbox.GiveUp(f"refused {payload['secret']}")


@outbox.handler("test.unwanted")
def unwanted(payload: dict) -> None:
    calls.append(payload)
    raise outbox.Drop()


@pytest.fixture
def quiet(make_app, mailbox: Mailbox) -> Iterator[Flask]:
    """The provider with no sender running: the test delivers with deliver_due()."""
    calls.clear()
    app = make_app(SMTP_URL=mailbox.url, OUTBOX_BACKOFF=1)
    with app.app_context():
        yield app


def queue_mail(to: str, name: str = "Anaïs Lefèvre", locale: str = "fr") -> OutboxItem:
    """What a flow does during a request: queue a mail (the test commits)."""
    account = SimpleNamespace(name=name)
    with current_app.test_request_context(headers={"Accept-Language": locale}):
        return mail.queue(to, "account_password_changed", "Mot de passe modifié", account=account)


def rows() -> list[OutboxItem]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def test_a_queued_mail_is_sent_once_its_transaction_commits(quiet, mailbox):
    queue_mail("anais@example.org")
    assert outbox.deliver_due() == 0  # not committed yet: no sender sees it

    db.session.commit()
    assert outbox.deliver_due() == 1
    assert outbox.deliver_due() == 0

    [message] = mailbox.to("anais@example.org")
    assert "Anaïs Lefèvre" in text_of(message)
    [row] = rows()
    assert (row.state, row.attempts, row.last_error, row.payload) == (SENT, 1, None, {})
    assert row.sent_at is not None


def test_a_rolled_back_transaction_sends_nothing(quiet, mailbox):
    queue_mail("anais@example.org")
    db.session.rollback()

    assert outbox.deliver_due() == 0
    assert rows() == []
    assert mailbox.to("anais@example.org", timeout=0.2) == []


def test_the_mail_is_rendered_in_the_locale_of_the_request_that_queued_it(quiet, mailbox):
    queue_mail("anais@example.org", locale="en")
    db.session.commit()
    assert outbox.deliver_due() == 1

    assert "Hello" in text_of(mailbox.last_to("anais@example.org"))


def test_the_sender_thread_delivers_as_soon_as_the_queue_is_committed(quiet, mailbox):
    sender = outbox.start_sender(quiet, interval=60)  # no polling: only the wake-up can do it
    try:
        queue_mail("anais@example.org")
        db.session.commit()
        assert len(mailbox.to("anais@example.org", timeout=5)) == 1
    finally:
        sender.stop()


def test_smtp_down_the_mail_waits_then_leaves_once_it_is_back(quiet, mailbox):
    mailbox.stop()
    queue_mail("anais@example.org")
    db.session.commit()

    assert outbox.deliver_due() == 0
    [row] = rows()
    assert (row.state, row.attempts) == (PENDING, 1)
    assert row.last_error == "MailError: ConnectionRefusedError"
    assert row.due_at > utcnow()  # the next attempt waits
    assert outbox.deliver_due() == 0  # not due yet
    assert rows()[0].attempts == 1

    mailbox.start()
    assert outbox.deliver_due(now=row.due_at + timedelta(seconds=1)) == 1
    assert len(mailbox.to("anais@example.org")) == 1
    assert rows()[0].state == SENT


def test_retries_back_off_exponentially_then_give_up(quiet, caplog):
    quiet.config["OUTBOX_MAX_ATTEMPTS"] = 4
    outbox.enqueue("test.flaky", {"fail": 99, "secret": SECRET})
    db.session.commit()
    now = utcnow()
    waits = []
    for _attempt in range(4):
        assert outbox.deliver_due(now=now) == 0
        [row] = rows()
        waits.append(round((row.due_at - now).total_seconds()))
        now = row.due_at

    [row] = rows()
    assert waits[:3] == [1, 2, 4]  # base 1 s, doubled each time
    assert (row.state, row.attempts, row.payload) == (FAILED, 4, {})  # the secret is gone
    assert row.last_error == "Unreachable"
    assert outbox.deliver_due(now=now + timedelta(days=1)) == 0  # never again
    assert len(calls) == 4
    assert SECRET not in caplog.text
    assert "given up" in caplog.text


def test_a_row_that_succeeds_on_a_retry_is_sent_and_keeps_its_count(quiet):
    outbox.enqueue("test.flaky", {"fail": 2, "secret": SECRET})
    db.session.commit()
    later = utcnow() + timedelta(hours=2)
    outbox.deliver_due()
    outbox.deliver_due(now=later)
    assert outbox.deliver_due(now=later + timedelta(hours=1)) == 1

    [row] = rows()
    assert (row.state, row.attempts, row.last_error) == (SENT, 3, None)


def test_a_handler_that_gives_up_fails_the_row_at_once(quiet, caplog):
    outbox.enqueue("test.refused", {"secret": SECRET})
    db.session.commit()

    assert outbox.deliver_due() == 0
    [row] = rows()
    assert (row.state, row.attempts, row.last_error, row.payload) == (FAILED, 1, "GiveUp", {})
    assert SECRET not in caplog.text


def test_the_backoff_is_capped_at_an_hour(quiet):
    quiet.config["OUTBOX_BACKOFF"] = outbox.BACKOFF_BASE
    assert outbox.backoff(1) == timedelta(seconds=5)
    assert outbox.backoff(4) == timedelta(seconds=40)
    assert outbox.backoff(30) == timedelta(hours=1)


def test_a_row_under_another_senders_lease_is_left_alone_until_the_lease_ends(quiet):
    item = outbox.enqueue("test.flaky", {})
    db.session.commit()
    item.claimed_by, item.claimed_until = "a-sender-that-died", utcnow() + outbox.LEASE
    db.session.commit()

    assert outbox.deliver_due() == 0
    assert calls == []
    assert outbox.deliver_due(now=utcnow() + outbox.LEASE + timedelta(seconds=1)) == 1
    assert len(calls) == 1


def test_rows_of_a_kind_this_process_cannot_deliver_are_left_for_others(quiet):
    outbox.enqueue("test.unknown-kind", {})
    db.session.commit()

    assert outbox.deliver_due() == 0
    [row] = rows()
    assert (row.state, row.attempts, row.claimed_by) == (PENDING, 0, None)


def test_senders_at_once_send_each_mail_once(quiet, make_app, mailbox):
    addresses = [f"parent{n}@example.org" for n in range(40)]
    for address in addresses:
        queue_mail(address)
    db.session.commit()
    apps = [make_app(SMTP_URL=mailbox.url) for _ in range(4)]  # four pools, as four processes
    start = threading.Barrier(len(apps))
    sent: list[int] = []

    def sender(app: Flask) -> None:
        with app.app_context():
            start.wait()
            sent.append(outbox.drain(limit=5))
            db.session.remove()

    threads = [threading.Thread(target=sender, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(sent) == len(addresses)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(addresses)
    assert all(row.state == SENT and row.attempts == 1 for row in rows())


def test_a_delivery_no_longer_wanted_is_dropped_not_failed(quiet, caplog):
    outbox.enqueue("test.unwanted", {"secret": SECRET})
    db.session.commit()

    assert outbox.deliver_due() == 0
    [row] = rows()
    assert (row.state, row.attempts, row.payload) == (DROPPED, 1, {})
    assert outbox.deliver_due(now=utcnow() + timedelta(days=1)) == 0
    assert len(calls) == 1 and "dropped" in caplog.text


def test_the_counts_per_state_and_the_purge(quiet):
    outbox.enqueue("test.flaky", {})
    outbox.enqueue("test.refused", {"secret": SECRET})
    outbox.enqueue("test.unwanted", {})
    outbox.enqueue("test.unknown-kind", {})
    db.session.commit()
    outbox.deliver_due()

    assert outbox.counts() == {PENDING: 1, SENT: 1, FAILED: 1, DROPPED: 1}
    assert outbox.purge(before=utcnow() - timedelta(days=1)) == 0
    assert outbox.purge(before=utcnow()) == 3
    db.session.commit()
    assert outbox.counts() == {PENDING: 1, SENT: 0, FAILED: 0, DROPPED: 0}


def test_nothing_of_the_mail_is_logged_when_smtp_is_down(quiet, mailbox, caplog):
    caplog.set_level(logging.DEBUG)
    mailbox.stop()
    queue_mail("anais@example.org", name=SECRET)
    db.session.commit()
    outbox.deliver_due()

    assert SECRET not in caplog.text
    assert "anais@" not in caplog.text
    assert "a***@example.org" in caplog.text


def test_the_receipt_is_written_once_the_smtp_server_has_taken_the_mail(quiet, mailbox):
    account, _password = Factory(quiet).account()
    flow, _token = mailed_links.create(EMAIL_CONFIRMATION, account, account.email)
    db.session.flush()
    with quiet.test_request_context():
        mail.queue(
            account.email,
            "account_password_changed",
            "Mot de passe modifié",
            account=account,
            account_id=account.id,
            sent_event="activation_mail_sent",
            sent_details={"kind": "test"},
            flow_id=flow.id,
        )
    db.session.commit()
    mailbox.stop()
    outbox.deliver_due()

    def receipt() -> tuple[list[dict], bool]:
        db.session.expire_all()
        events = db.session.scalars(select(AuditEvent).filter_by(event="activation_mail_sent"))
        return [e.details for e in events], db.session.get(Flow, flow.id).mailed_at is not None

    assert receipt() == ([], False)
    mailbox.start()
    assert outbox.deliver_due(now=utcnow() + timedelta(minutes=1)) == 1
    assert receipt() == ([{"kind": "test", "email": "a***@example.org"}], True)
