"""Issue 3, "Races": two activations of one account at once apply once, two clicks on the mailed
link activate once, and no failure leaves an account half activated (SQLite and PostgreSQL).

The races run over real HTTP against the live server, one `requests.Session` per browser, the
two requests released together by a `threading.Barrier`. Each race runs in two ways:

- "at once": only the barrier; the requests overlap as they happen to;
- "lockstep": the server itself also holds both requests just before the conditional update
  (a second barrier on the `events.before_update` seam, for the change "activate" or
  "link.use"), so both have passed every read and truly race on the
  `UPDATE … WHERE status = …`: the case the code must survive.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from idp import outbox
from idp.accounts import events
from idp.extensions import db
from idp.models import Account, AuditEvent, Flow, OutboxItem
from idp.models.accounts import PENDING_EMAIL, PROVISIONAL
from idp.models.base import utcnow
from idp.passwords import check_password
from tests.conftest import Browser
from tests.factories import Factory
from tests.mailbox import links_in, wait_for_outbox
from tests.parent import Page, Parent, message_ids_in, parse

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
BIRTHDATE = "14/02/2016"  # Noé's, the first child of the factory's family
ROUNDS = 4
TIMEOUT = 10  # seconds: a request stuck longer than this is a failure, not a slow test
ACTIVATED = "activation.confirmed"
USED = "link.used"
NEW_PASSWORD = "Trousse-Verte-88"


# --- helpers -------------------------------------------------------------------------------


def signed_in(base_url: str, identifier: str, password: str) -> requests.Session:
    """A browser that signed in on the login page (with its form and CSRF token)."""
    browser = requests.Session()
    page = browser.get(f"{base_url}/login", timeout=TIMEOUT)
    assert page.status_code == 200
    answer = browser.post(
        f"{base_url}/login",
        data={
            "identifier": identifier,
            "password": password,
            "csrf_token": CSRF.search(page.text).group(1),
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 302, answer.text
    return browser


def activation_token(browser: requests.Session, base_url: str) -> str:
    page = browser.get(f"{base_url}/activation", timeout=TIMEOUT)
    assert page.status_code == 200 and parse(page.text).find_all("form", action="/activation")
    return CSRF.search(page.text).group(1)


def check_mail(markup: str) -> bool:
    """The "check your mail" page: it says where the mail went (or that it failed)."""
    return any(i.startswith("activation.mail_") for i in message_ids_in(markup))


def at_once(*calls: Callable[[], requests.Response]) -> list[requests.Response]:
    """Run the calls in threads released together by a barrier; their answers, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=TIMEOUT)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=3 * TIMEOUT) for future in futures]


def hold_in_lockstep(change: str, request: pytest.FixtureRequest) -> dict:
    """Make the server wait, just before the conditional update called ``change``, for a second
    request to get there too, so both requests reach the update together (for the test)."""
    barrier = threading.Barrier(2)
    seen = {"held": 0}

    def held(name: str, account_id: int) -> None:
        if name == change:
            seen["held"] += 1
            barrier.wait(timeout=TIMEOUT)

    events.before_update.connect(held)
    request.addfinalizer(lambda: events.before_update.disconnect(held))
    return seen


def count(model, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def fresh(account: Account) -> Account:
    """The account as the database has it now (the requests ran in other sessions)."""
    db.session.expire_all()
    return db.session.get(Account, account.id)


def mails_to(mailbox, address: str) -> list:
    """The mails received for ``address`` once the outbox has delivered what was queued."""
    wait_for_outbox()
    return [message for message in mailbox.messages if message["To"] == address]


# --- a. two activations at once --------------------------------------------------------------


@pytest.mark.parametrize("lockstep", [False, True], ids=["at-once", "lockstep"])
def test_two_browsers_activating_one_account_at_once_apply_exactly_one(
    app, live_server, mailbox, request, lockstep
):
    factory = Factory(app)
    url = live_server.url
    if lockstep:
        held = hold_in_lockstep("activate", request)
    for round_ in range(ROUNDS):
        account, letter_password = factory.account(status="provisional", email=None)
        old_hash = account.password_hash
        tries = {
            "laptop": (f"parent.{round_}@example.org", f"Trousse-Verte-{round_}8a"),
            "phone": (f"autre.{round_}@example.net", f"Gomme!Rose-{round_}7b"),
        }
        browsers = {name: signed_in(url, account.identifier, letter_password) for name in tries}
        forms = {}
        for name, (email, password) in tries.items():
            forms[name] = {
                "email": email,
                "new_password": password,
                "new_password_confirm": password,
                "child_birthdate": BIRTHDATE,
                "csrf_token": activation_token(browsers[name], url),
            }
        db.session.commit()  # the test holds no transaction while the requests race

        posts = [
            partial(browsers[name].post, f"{url}/activation", data=forms[name], timeout=TIMEOUT)
            for name in tries
        ]
        answers = dict(zip(tries, at_once(*posts), strict=True))

        # Both browsers get an answer, and it is the "check your mail" page, never an error.
        for name, answer in answers.items():
            assert answer.status_code == 200, (round_, name, answer.status_code, answer.text)
            assert check_mail(answer.text), (round_, name)

        # Exactly one submission was applied, whole: its email and its password together.
        account = fresh(account)
        assert account.status == PENDING_EMAIL
        winners = [name for name, (email, _) in tries.items() if email == account.email]
        assert len(winners) == 1, (round_, account.email)
        (winner,) = winners
        (loser,) = [name for name in tries if name != winner]
        assert check_password(tries[winner][1], account.password_hash)
        assert not check_password(tries[loser][1], account.password_hash)
        assert account.password_hash != old_hash and account.email_verified is False

        # One live link, one mail (to the winner's address), one audit event.
        assert count(Flow, account_id=account.id) == 1
        assert count(Flow, account_id=account.id, state="sent") == 1
        assert (
            db.session.scalar(select(Flow.email).filter_by(account_id=account.id))
            == (tries[winner][0])
        )
        assert len(mails_to(mailbox, tries[winner][0])) == 1
        assert mails_to(mailbox, tries[loser][0]) == []
        assert count(AuditEvent, account_id=account.id, event="activation_submitted") == 1
        assert count(AuditEvent, account_id=account.id, event="activation_mail_sent") == 1

        # Each browser is told where the mail went: the address that was kept.
        for answer in answers.values():
            assert tries[winner][0] in answer.text
    if lockstep:
        assert held["held"] == 2 * ROUNDS  # both requests of every round reached the update


# --- b. two clicks on the link at once -------------------------------------------------------


def pending_account_with_link(factory: Factory, url: str, mailbox, email: str):
    """An account activated up to the mail, the browser that did it, and the mailed link."""
    account, letter_password = factory.account(status="provisional", email=None)
    browser = signed_in(url, account.identifier, letter_password)
    answer = browser.post(
        f"{url}/activation",
        data={
            "email": email,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "child_birthdate": "2016-02-14",
            "csrf_token": activation_token(browser, url),
        },
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200 and check_mail(answer.text)
    (link,) = links_in(mailbox.last_to(email))
    assert link.startswith(f"{url}/activation/confirm/")
    return account, browser, link


def button(session: requests.Session, link: str) -> partial:
    """The link's page opened, its one button ready to be pressed (a POST with its token):
    opening a mailed link changes nothing (docs/contract.md §4)."""
    page = session.get(link, timeout=TIMEOUT)
    token = CSRF.search(page.text).group(1)
    return partial(session.post, link, data={"csrf_token": token}, timeout=TIMEOUT)


@pytest.mark.parametrize("lockstep", [False, True], ids=["at-once", "lockstep"])
def test_two_clicks_on_the_link_at_once_activate_once(app, live_server, mailbox, request, lockstep):
    factory = Factory(app)
    url = live_server.url
    if lockstep:  # the form's submission never calls mailed_links.use: only the clicks are held
        held = hold_in_lockstep("link.use", request)
    for round_ in range(ROUNDS):
        email = f"clic.{round_}@example.org"
        account, signed_in_browser, link = pending_account_with_link(factory, url, mailbox, email)
        mail_app = requests.Session()  # the phone's mail app: not signed in
        db.session.commit()

        answers = at_once(button(signed_in_browser, link), button(mail_app, link))

        for answer in answers:
            assert answer.status_code == 200, (round_, answer.status_code, answer.text)
        shown = [message_ids_in(answer.text) for answer in answers]
        assert sum(ACTIVATED in ids for ids in shown) >= 1, round_
        for ids in shown:
            assert ACTIVATED in ids or USED in ids, (round_, ids)

        account = fresh(account)
        assert account.status == "active" and account.email_verified is True
        assert count(AuditEvent, account_id=account.id, event="activation_confirmed") == 1
        assert count(Flow, account_id=account.id, state="done") == 1
        assert count(Flow, account_id=account.id, state="sent") == 0
    if lockstep:
        assert held["held"] == 2 * ROUNDS  # both clicks of every round reached the update


# --- c. no half-activated state after a failure ---------------------------------------------


def submit_activation(parent: Parent, email: str, password: str = NEW_PASSWORD) -> Page:
    fields = {"new_password": password, "new_password_confirm": password}
    return parent.submit(
        "/activation", "/activation", email=email, child_birthdate=BIRTHDATE, **fields
    )


@contextmanager
def refused_smtp(make_app, **settings):
    """A provider whose SMTP server refuses connections, with its own sender running."""
    app = make_app(SMTP_URL="smtp://127.0.0.1:1", OUTBOX_BACKOFF=0.2, **settings)
    app.test_client_class = Browser
    sender = outbox.start_sender(app, interval=0.2)
    try:
        with app.app_context():
            yield app
    finally:
        sender.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def outbox_rows() -> list[OutboxItem]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def test_mail_that_cannot_be_sent_yet_leaves_a_consistent_pending_account(make_app):
    with refused_smtp(make_app) as app:
        account, letter_password = Factory(app).account(status="provisional", email=None)
        parent = Parent(app.test_client()).signed_in_as(account, letter_password)

        answer = submit_activation(parent, "anais@example.org")
        assert answer.status_code == 200  # the mail waits in the outbox, the page says so
        assert answer.alert_ids == [] and "activation.mail_on_its_way" in answer.message_ids
        assert answer.form("/activation/resend")

        # The submission holds whole: new password, address, its link, and its mail queued.
        account = fresh(account)
        assert account.status == PENDING_EMAIL and account.email == "anais@example.org"
        assert check_password(NEW_PASSWORD, account.password_hash)
        assert not check_password(letter_password, account.password_hash)
        assert count(Flow, account_id=account.id, state="sent") == 1
        assert [(row.kind, row.state) for row in outbox_rows()] == [("mail", "pending")]
        assert count(AuditEvent, account_id=account.id, event="activation_submitted") == 1
        assert count(AuditEvent, account_id=account.id, event="activation_mail_sent") == 0

        # Signing in again with the new password leads to the "check your mail" page, resend.
        other = Parent(app.test_client()).signed_in_as(account, NEW_PASSWORD)
        again = other.open("/activation")
        assert check_mail(again.html) and again.form("/activation/resend")

        # Resending while the server is still away: one new link replaces the old, and only
        # its mail will go (the replaced link's mail is dropped, not sent with a dead link).
        resend = parent.submit_on(answer, "/activation/resend")
        assert resend.status_code == 200 and "activation.mail_on_its_way" in resend.message_ids
        assert count(Flow, account_id=account.id, state="sent") == 1
        assert count(Flow, account_id=account.id, state="cancelled") == 1
        assert fresh(account).status == PENDING_EMAIL
        assert outbox.deliver_due(now=utcnow() + timedelta(hours=1)) == 0
        wait_until(lambda: [row.state for row in outbox_rows()] == ["dropped", "pending"])


def test_after_a_mail_given_up_a_later_visit_does_not_claim_it_left(make_app):
    with refused_smtp(make_app, OUTBOX_MAX_ATTEMPTS=1) as app:
        account, letter_password = Factory(app).account(status="provisional", email=None)
        parent = Parent(app.test_client()).signed_in_as(account, letter_password)
        assert submit_activation(parent, "anais@example.org").status_code == 200
        wait_until(lambda: [row.state for row in outbox_rows()] == ["failed"])

        other = Parent(app.test_client())  # the parent comes back later, on another device
        page = other.signed_in_as(account, NEW_PASSWORD).open("/activation")
        assert page.form("/activation/resend")
        assert "activation.mail_sent" not in page.message_ids  # no mail went out: don't say so
        assert "activation.mail_on_its_way" not in page.message_ids  # nor that one is coming
        assert "activation.mail_pending" in page.message_ids and check_mail(page.html)


def test_failure_inside_the_activation_transaction_writes_nothing(app, parent, factory, mailbox):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a real server's behaviour: a page, not a trace
    account, letter_password = factory.account(status="provisional", email=None)
    old_hash = account.password_hash
    parent.signed_in_as(account, letter_password)

    def broken(event: events.Event) -> None:  # after the account's update, same transaction
        raise RuntimeError("link storage failed")

    events.subscribe("account.activated", in_transaction=True)(broken)
    try:
        answer = submit_activation(parent, "anais@example.org")
    finally:
        events.unsubscribe("account.activated", broken)
    assert answer.status_code == 500 and answer.message_ids == ["error.500"]
    assert "RuntimeError" not in answer.html and "Traceback" not in answer.html

    # Nothing half-written: still provisional, the letter's password, no address, no link.
    account = fresh(account)
    assert account.status == PROVISIONAL
    assert account.password_hash == old_hash
    assert account.email is None and account.email_verified is False
    assert account.activation_failures == 0
    assert count(Flow, account_id=account.id) == 0
    assert count(AuditEvent, account_id=account.id, event="activation_submitted") == 0
    assert mailbox.messages == []

    # Once the fault is gone, the same parent activates normally from the same browser.
    retry = submit_activation(parent, "anais@example.org")
    assert retry.status_code == 200 and "activation.mail_on_its_way" in retry.message_ids
    assert fresh(account).status == PENDING_EMAIL


def test_failure_while_confirming_leaves_the_link_usable(
    app, parent, make_parent, factory, mailbox
):
    """The other half of "no half-activated state": the link spent but the account not active
    would strand the parent; a failure in the confirmation rolls back both."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    account, letter_password = factory.account(status="provisional", email=None)
    parent.signed_in_as(account, letter_password)
    assert submit_activation(parent, "anais@example.org").status_code == 200
    (link,) = links_in(mailbox.last_to("anais@example.org"))

    def broken(change: str, account_id: int) -> None:  # after the link is spent, same transaction
        if change == "confirm_email":
            raise RuntimeError("database failed")

    events.before_update.connect(broken)
    phone = make_parent()
    try:
        failed = phone.open_link(urlsplit(link).path)
    finally:
        events.before_update.disconnect(broken)
    assert failed.status_code == 500 and failed.message_ids == ["error.500"]
    account = fresh(account)
    assert account.status == PENDING_EMAIL and account.email_verified is False
    assert count(Flow, account_id=account.id, state="sent") == 1

    again = phone.open_link(urlsplit(link).path)
    assert again.status_code == 200 and again.message_ids == [ACTIVATED]
    assert fresh(account).status == "active"


def test_a_failing_subscriber_leaves_the_activation_applied(
    parent, make_parent, factory, mailbox, caplog
):
    """Subscribers run after the commit: one that fails is logged and undoes nothing."""
    account, letter_password = factory.account(status="provisional", email=None)
    parent.signed_in_as(account, letter_password)
    assert submit_activation(parent, "anais@example.org").status_code == 200
    (link,) = links_in(mailbox.last_to("anais@example.org"))

    def failing(event: events.Event) -> None:
        raise RuntimeError("a subscriber failed")

    events.subscribe("account.confirmed")(failing)
    try:
        answer = make_parent().open_link(urlsplit(link).path)
    finally:
        events.unsubscribe("account.confirmed", failing)
    assert answer.status_code == 200 and answer.message_ids == [ACTIVATED]
    assert fresh(account).status == "active"
    assert count(Flow, account_id=account.id, state="done") == 1
    assert "subscriber" in caplog.text and "account.confirmed failed" in caplog.text
    # The other subscribers (the audit trail) still ran.
    assert count(AuditEvent, account_id=account.id, event="activation_confirmed") == 1
