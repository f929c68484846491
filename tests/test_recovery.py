"""Self-help from the login page (issue 4): a parent who lost the identifier gets it by mail; one
who lost the password gets a single-use link, chooses a new password, and everything signed in
before is signed out. Nothing tells a visitor whether an address or identifier has an account.

Every test drives the pages as a browser would, from the login page's links, and reads the mails
that really arrived over SMTP. The look-up runs after the response (idp.jobs) and queues the mail
in the outbox, which the test app's sender delivers: the tests wait for both before reading the
mailbox.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from idp import jobs
from idp.extensions import db
from idp.models import AuditEvent, Flow, LoginSession, Token
from idp.models.accounts import LOCKED, PENDING_EMAIL, PROVISIONAL
from idp.models.base import utcnow
from idp.models.flows import PASSWORD_RESET
from tests.mailbox import Mailbox, html_of, links_in, text_of, wait_for_outbox
from tests.oidc_client import OIDCClient
from tests.parent import Page, Parent
from tests.timing import assert_same_pages_and_timing, masked

EMAIL = "anais@example.org"
NEW_PASSWORD = "Gomme-Rouge-2027!"
NEUTRAL_IDENTIFIER = "recovery.identifier_sent"
NEUTRAL_PASSWORD = "recovery.reset_sent"
NEVER_ACTIVATED = "recovery.never_activated"


@pytest.fixture(autouse=True)
def jobs_finish(make_app, mailbox):
    """No job of a test outlives it (its app, database rows and SMTP server go away)."""
    yield
    assert jobs.wait_for_jobs()


# --- helpers -------------------------------------------------------------------------------


def ip_address() -> str:
    """A fresh client address, so that the per-address limits don't mix tests up."""
    return "10.{}.{}.{}".format(*secrets.token_bytes(3))


def sent(page: Page) -> Page:
    """The page, read and closed as a server does once it is sent: queued jobs start now."""
    page.response.make_sequence()
    page.response.close()
    return page


def submit(parent: Parent, path: str, ip: str | None = None, **fields) -> Page:
    """Send the form of the page ``path`` with its CSRF token (from ``ip``, if given)."""
    return sent(parent.submit(path, environ_base={"REMOTE_ADDR": ip or ip_address()}, **fields))


def link_from_login_page(parent: Parent, label: str) -> str:
    """The address of a self-help link, as the login page gives it."""
    login = parent.open("/login")
    (href,) = [a["href"] for a in login.tree.find_all("a") if a.text == label]
    return href


def ask_identifier(parent: Parent, email: str, **kwargs) -> Page:
    return submit(parent, link_from_login_page(parent, "Identifiant oublié"), email=email, **kwargs)


def ask_reset(parent: Parent, identifier: str, **kwargs) -> Page:
    path = link_from_login_page(parent, "Mot de passe oublié")
    return submit(parent, path, identifier=identifier, **kwargs)


def mails_to(mailbox: Mailbox, address: str) -> list:
    """The mails received for ``address`` once every queued job has run and the outbox has
    delivered what they queued (no waiting for more)."""
    wait_for_outbox()
    return [message for message in mailbox.messages if message["To"] == address]


def reset_link(mailbox: Mailbox, address: str = EMAIL) -> str:
    (mail,) = mails_to(mailbox, address)[-1:]
    (link,) = links_in(mail)  # exactly one link: the action link
    return urlsplit(link).path


def choose_password(
    parent: Parent, path: str, password: str = NEW_PASSWORD, confirm: str | None = None
) -> Page:
    return submit(parent, path, new_password=password, new_password_confirm=confirm or password)


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).filter_by(event=name)))


# --- forgotten identifier ------------------------------------------------------------------


def test_parent_gets_the_identifier_by_mail_from_the_login_page(parent: Parent, factory, mailbox):
    account, _ = factory.account()

    answer = ask_identifier(parent, "Anais@Example.ORG")  # the case does not matter

    assert answer.status_code == 200
    assert NEUTRAL_IDENTIFIER in answer.message_ids and NEVER_ACTIVATED in answer.message_ids
    (mail,) = mails_to(mailbox, EMAIL)
    assert mail["Subject"] == "Votre identifiant de compte parent"
    assert account.identifier in text_of(mail) and account.identifier in html_of(mail)
    links = links_in(mail)  # at most one link, to the login page
    assert len(links) <= 1 and all(urlsplit(link).path == "/login" for link in links)
    (event,) = events("recovery_requested")
    assert event.account_id == account.id and event.details["outcome"] == "mail_queued"
    assert event.details["kind"] == "identifier" and EMAIL not in str(event.details)
    (receipt,) = events("identifier_reminder_mail_sent")  # written once SMTP took it
    assert receipt.account_id == account.id and receipt.details["email"] == "a***@example.org"


def test_one_mail_lists_every_active_account_of_the_address(parent: Parent, factory, mailbox):
    first, _ = factory.account()
    second, _ = factory.account(given_name="Bruno")
    provisional, _ = factory.account(status=PROVISIONAL, given_name="Chloé")

    ask_identifier(parent, EMAIL)

    (mail,) = mails_to(mailbox, EMAIL)
    assert first.identifier in text_of(mail) and second.identifier in text_of(mail)
    assert provisional.identifier not in text_of(mail)


@pytest.mark.parametrize("status", ["unknown", PROVISIONAL, PENDING_EMAIL, LOCKED])
def test_no_identifier_mail_unless_the_account_is_active(parent: Parent, factory, mailbox, status):
    if status != "unknown":
        account, _ = factory.account(status=status)
        # pending_email: the address is not confirmed yet; locked: it was, the school must help
        account.email, account.email_verified = EMAIL, status == LOCKED
        db.session.commit()

    answer = ask_identifier(parent, EMAIL)

    assert answer.status_code == 200 and NEUTRAL_IDENTIFIER in answer.message_ids
    assert mails_to(mailbox, EMAIL) == []
    (event,) = events("recovery_requested")
    assert event.details["outcome"] == "no_account"


def test_identifier_form_explains_a_malformed_address(parent: Parent, mailbox):
    answer = ask_identifier(parent, "anais-at-example.org")
    assert answer.status_code == 400 and answer.errors("email") == ["field.email_invalid"]
    assert NEUTRAL_IDENTIFIER not in answer.message_ids
    wait_for_outbox()
    assert mailbox.messages == []


# --- forgotten password --------------------------------------------------------------------


def test_parent_resets_the_password_and_everything_signed_in_before_is_signed_out(
    rp: OIDCClient, parent: Parent, make_parent, factory, mailbox
):
    account, old_password = factory.account()
    tokens = rp.exchange(rp.code_for(account.identifier, old_password)).get_json()
    other = make_parent().signed_in_as(account, old_password)
    assert other.open("/").status_code == 200  # signed in there too

    fresh = make_parent()
    answer = ask_reset(fresh, f" {account.identifier.upper()} ")
    assert answer.status_code == 200 and NEUTRAL_PASSWORD in answer.message_ids
    assert NEVER_ACTIVATED in answer.message_ids
    (mail,) = mails_to(mailbox, EMAIL)
    assert mail["Subject"] == "Choisissez un nouveau mot de passe"
    assert "60 minutes" in text_of(mail)
    path = reset_link(mailbox)

    form = fresh.open(path)
    assert form.status_code == 200 and account.identifier in form.text
    assert form.form().find_all("input", name="new_password")
    assert form.form().find_all("input", name="new_password_confirm")
    weak = choose_password(fresh, path, "azertyuiop123")
    assert weak.status_code == 400 and weak.errors("new_password") == ["password.too_few_kinds"]
    personal = choose_password(fresh, path, f"{account.identifier}-Zx9!")
    assert personal.status_code == 400
    assert personal.errors("new_password") == ["password.personal"]
    differing = choose_password(fresh, path, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert differing.status_code == 400
    assert differing.errors("new_password_confirm") == ["field.passwords_differ"]

    done = choose_password(fresh, path)
    assert done.status_code == 200 and done.message_ids == ["recovery.password_reset"]

    # Every session, token and refresh token of the account ends.
    assert other.open("/").location.endswith("/login")
    assert parent.open("/").location.endswith("/login")
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    assert rp.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert db.session.scalar(db.select(LoginSession).filter_by(ended_at=None)) is None
    token = db.session.scalar(db.select(Token).filter_by(account_id=account.id))
    assert token.access_token_revoked_at and token.refresh_token_revoked_at

    # The old password no longer works; the new one does.
    refused = fresh.sign_in(account.identifier, old_password)
    assert refused.status_code == 401 and refused.alert_ids == ["login.failed"]
    assert fresh.sign_in(account.identifier, NEW_PASSWORD).status_code == 302

    # The notice, without a link; the link works once.
    notice = mails_to(mailbox, EMAIL)[-1]
    assert notice["Subject"] == "Votre mot de passe a été modifié"
    assert links_in(notice) == [] and account.identifier in text_of(notice)
    again = fresh.open(path)
    assert again.status_code == 400 and again.alert_ids == ["link.used"]
    assert [e.details["outcome"] for e in events("recovery_requested")] == ["mail_queued"]
    assert len(events("password_reset_mail_sent")) == 1
    assert [e.details["outcome"] for e in events("password_changed_notice")] == ["mail_sent"]
    assert len(events("password_reset")) == 1
    assert all(
        NEW_PASSWORD not in str(e.details) for e in db.session.scalars(db.select(AuditEvent))
    )


def test_reset_link_expires_after_an_hour(parent: Parent, factory, mailbox):
    account, _ = factory.account()
    password_hash = account.password_hash
    ask_reset(parent, account.identifier)
    path = reset_link(mailbox)
    flow = db.session.scalar(db.select(Flow).filter_by(kind=PASSWORD_RESET))
    assert abs(flow.expires_at - flow.created_at - timedelta(hours=1)) < timedelta(seconds=1)
    assert flow.mailed_at is not None  # the SMTP server took the mail

    flow.expires_at = utcnow() - timedelta(seconds=1)  # an hour later
    db.session.commit()

    answer = parent.open(path)
    assert answer.status_code == 400 and answer.alert_ids == ["link.expired"]
    # A form kept open from before the hour: its token is good, the link is not.
    fields = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    refused = parent.post(path, page="/recovery/password", **fields)
    assert refused.status_code == 400 and refused.alert_ids == ["link.expired"]
    db.session.refresh(account)
    assert account.password_hash == password_hash
    assert "/recovery/password" in answer.links() and "Recevoir un nouveau lien" in answer.text


def test_newer_link_replaces_the_older_one(parent: Parent, factory, mailbox):
    account, _ = factory.account()
    ask_reset(parent, account.identifier)
    first = reset_link(mailbox)
    ask_reset(parent, account.identifier)
    second = reset_link(mailbox)
    assert first != second

    older = parent.open(first)
    assert older.status_code == 400 and older.alert_ids == ["link.replaced"]
    assert choose_password(parent, second).status_code == 200


def test_mangled_link_says_so(parent: Parent, mailbox):
    answer = parent.open("/recovery/password/not-a-real-token")
    assert answer.status_code == 400 and answer.alert_ids == ["link.unknown"]


def test_link_of_an_account_locked_since_is_refused(parent: Parent, factory, mailbox):
    account, password = factory.account()
    ask_reset(parent, account.identifier)
    path = reset_link(mailbox)
    account.status = LOCKED
    db.session.commit()

    answer = parent.open(path)
    assert answer.status_code == 400 and answer.alert_ids == ["recovery.unavailable"]
    db.session.refresh(account)
    assert account.status == LOCKED


@pytest.mark.parametrize("status", ["unknown", PROVISIONAL, PENDING_EMAIL, LOCKED])
def test_no_reset_mail_unless_the_account_is_active_with_a_confirmed_address(
    parent: Parent, factory, mailbox, status
):
    identifier = "x.inconnu42"
    if status != "unknown":
        account, _ = factory.account(status=status)
        account.email, account.email_verified = EMAIL, status == LOCKED
        db.session.commit()
        identifier = account.identifier

    answer = ask_reset(parent, identifier)

    assert answer.status_code == 200 and NEUTRAL_PASSWORD in answer.message_ids
    assert mails_to(mailbox, EMAIL) == []
    assert db.session.scalar(db.select(Flow)) is None
    (event,) = events("recovery_requested")
    assert event.details["outcome"] == "no_mail"


def test_a_parent_gets_at_most_three_reset_mails_in_ten_minutes(parent: Parent, factory, mailbox):
    account, _ = factory.account()
    for _ in range(5):
        assert ask_reset(parent, account.identifier).status_code == 200
        wait_for_outbox()  # each mail leaves before the next request (a newer link would
        # otherwise replace the older one first, and its mail be dropped rather than sent)
    assert len(mails_to(mailbox, EMAIL)) == 3
    outcomes = sorted(e.details["outcome"] for e in events("recovery_requested"))
    assert outcomes == ["mail_limit"] * 2 + ["mail_queued"] * 3
    assert len(events("password_reset_mail_sent")) == 3


def test_the_mail_speaks_the_language_of_the_page(parent: Parent, factory, mailbox):
    account, _ = factory.account()
    english = {"Accept-Language": "en"}
    answer = sent(
        parent.submit("/recovery/password", headers=english, identifier=account.identifier)
    )
    assert "If this account is activated" in answer.text  # the page, in English too
    (mail,) = mails_to(mailbox, EMAIL)
    assert mail["Subject"] == "Choose a new password"


def test_the_neutral_answers_are_worded_in_french(parent: Parent, factory, mailbox):
    """The words behind the ids the other tests check, on purpose."""
    answer = ask_identifier(parent, EMAIL)
    assert "Si un compte activé utilise cette adresse" in answer.text
    assert "Vous n'avez pas encore activé votre compte ?" in answer.text
    answer = ask_reset(parent, "x.inconnu42")
    assert "Si ce compte est activé, un message vient d'être envoyé" in answer.text
    mangled = parent.open("/recovery/password/not-a-real-token")
    assert "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier." in mangled.text


# --- no enumeration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "existing", "missing"),
    [
        ("/recovery/identifier", "email", EMAIL, "personne@example.org"),
        ("/recovery/password", "identifier", None, "x.inconnu42"),
    ],
    ids=["identifier", "password"],
)
def test_answer_wording_status_and_timing_do_not_tell_whether_an_account_exists(
    browser, factory, mailbox, path, field, existing, missing
):
    account, _ = factory.account()
    parent = Parent(browser)

    def send(value: str) -> tuple[float, tuple[int, str]]:
        """One submit of the form, timed as a visitor measures it: the POST alone."""
        token = parent.csrf_token(path)
        started = time.perf_counter()
        data = {"csrf_token": token, field: value}
        response = browser.post(path, data=data, environ_base={"REMOTE_ADDR": ip_address()})
        elapsed = time.perf_counter() - started
        sent(Page(response))
        jobs.wait_for_jobs()  # no job may slow the next request measured
        wait_for_outbox()  # nor a mail leaving; and a newer link would drop one still queued
        assert response.status_code == 200
        return elapsed, masked(response)

    assert_same_pages_and_timing(send, existing or account.identifier, missing)
    assert len(mails_to(mailbox, EMAIL)) == 3  # the mail budget; the page said the same each time


def test_a_reset_cancels_an_address_change_asked_before(
    parent: Parent, make_parent, factory, mailbox
):
    # Whoever knew the old password asked to move the address to theirs; the parent resets.
    account, password = factory.account()
    intruder = make_parent().signed_in_as(account, password)
    assert intruder.submit("/compte/adresse", email="intrus@example.net").status_code == 302
    (change,) = links_in(mailbox.last_to("intrus@example.net"))

    ask_reset(parent, account.identifier)
    assert choose_password(parent, reset_link(mailbox)).status_code == 200

    assert make_parent().open_link(urlsplit(change).path).status_code == 400
    db.session.refresh(account)
    assert account.email == EMAIL
