"""Self-help from the login page (issue 4): a parent who lost the identifier gets it by mail; one
who lost the password gets a single-use link, chooses a new password, and everything signed in
before is signed out. Nothing tells a visitor whether an address or identifier has an account.

Every test drives the pages as a browser would, from the login page's links, and reads the mails
that really arrived over SMTP. The look-up and the mail run after the response (idp.jobs): the
tests wait for those jobs before reading the mailbox.
"""

from __future__ import annotations

import html
import re
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
from tests.mailbox import Mailbox, html_of, links_in, text_of
from tests.oidc_client import OIDCClient, csrf_token
from tests.timing import assert_same_pages_and_timing, masked

EMAIL = "anais@example.org"
NEW_PASSWORD = "Gomme-Rouge-2027!"
NEUTRAL_IDENTIFIER = "Si un compte activé utilise cette adresse"
NEUTRAL_PASSWORD = "Si ce compte est activé"
NEVER_ACTIVATED = "Vous n'avez pas encore activé votre compte ?"


@pytest.fixture(autouse=True)
def jobs_finish(make_app, mailbox):
    """No job of a test outlives it (its app, database rows and SMTP server go away)."""
    yield
    assert jobs.wait_for_jobs()


# --- helpers -------------------------------------------------------------------------------


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def ip_address() -> str:
    """A fresh client address, so that the per-address limits don't mix tests up."""
    return "10.{}.{}.{}".format(*secrets.token_bytes(3))


def sent(response):
    """The response, read and closed as a server does once it is sent: queued jobs start now."""
    response.make_sequence()
    response.close()
    return response


def submit(browser, path: str, ip: str | None = None, **fields):
    """Open the form's page, then send it with its CSRF token (from ``ip``, if given)."""
    form_page = browser.get(path)
    assert form_page.status_code == 200
    data = {"csrf_token": csrf_token(form_page.get_data(as_text=True)), **fields}
    return sent(browser.post(path, data=data, environ_base={"REMOTE_ADDR": ip or ip_address()}))


def link_from_login_page(browser, label: str) -> str:
    """The address of a self-help link, as the login page gives it."""
    login = browser.get("/login").get_data(as_text=True)
    match = re.search(rf'<a href="([^"]+)">{label}</a>', login)
    assert match, f"no link {label!r} on the login page"
    return match.group(1)


def ask_identifier(browser, email: str, **kwargs):
    return submit(
        browser, link_from_login_page(browser, "Identifiant oublié"), email=email, **kwargs
    )


def ask_reset(browser, identifier: str, **kwargs):
    return submit(
        browser,
        link_from_login_page(browser, "Mot de passe oublié"),
        identifier=identifier,
        **kwargs,
    )


def mails_to(mailbox: Mailbox, address: str) -> list:
    """The mails received for ``address`` once every queued job has run (no waiting for more)."""
    assert jobs.wait_for_jobs()
    return [message for message in mailbox.messages if message["To"] == address]


def reset_link(mailbox: Mailbox, address: str = EMAIL) -> str:
    (mail,) = mails_to(mailbox, address)[-1:]
    (link,) = links_in(mail)  # exactly one link: the action link
    return urlsplit(link).path


def choose_password(browser, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return submit(browser, path, new_password=password, new_password_confirm=confirm or password)


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).filter_by(event=name)))


# --- forgotten identifier ------------------------------------------------------------------


def test_parent_gets_the_identifier_by_mail_from_the_login_page(browser, factory, mailbox):
    account, _ = factory.account()

    answer = ask_identifier(browser, "Anais@Example.ORG")  # the case does not matter

    assert answer.status_code == 200
    assert NEUTRAL_IDENTIFIER in text(answer) and NEVER_ACTIVATED in text(answer)
    (mail,) = mails_to(mailbox, EMAIL)
    assert mail["Subject"] == "Votre identifiant de compte parent"
    assert account.identifier in text_of(mail) and account.identifier in html_of(mail)
    links = links_in(mail)  # at most one link, to the login page
    assert len(links) <= 1 and all(urlsplit(link).path == "/login" for link in links)
    (event,) = events("recovery_requested")
    assert event.account_id == account.id and event.details["outcome"] == "mail_sent"
    assert event.details["kind"] == "identifier" and EMAIL not in str(event.details)


def test_one_mail_lists_every_active_account_of_the_address(browser, factory, mailbox):
    first, _ = factory.account()
    second, _ = factory.account(given_name="Bruno")
    provisional, _ = factory.account(status=PROVISIONAL, given_name="Chloé")

    ask_identifier(browser, EMAIL)

    (mail,) = mails_to(mailbox, EMAIL)
    assert first.identifier in text_of(mail) and second.identifier in text_of(mail)
    assert provisional.identifier not in text_of(mail)


@pytest.mark.parametrize("status", ["unknown", PROVISIONAL, PENDING_EMAIL, LOCKED])
def test_no_identifier_mail_unless_the_account_is_active(browser, factory, mailbox, status):
    if status != "unknown":
        account, _ = factory.account(status=status)
        # pending_email: the address is not confirmed yet; locked: it was, the school must help
        account.email, account.email_verified = EMAIL, status == LOCKED
        db.session.commit()

    answer = ask_identifier(browser, EMAIL)

    assert answer.status_code == 200 and NEUTRAL_IDENTIFIER in text(answer)
    assert mails_to(mailbox, EMAIL) == []
    (event,) = events("recovery_requested")
    assert event.details["outcome"] == "no_account"


def test_identifier_form_explains_a_malformed_address(browser, mailbox):
    answer = ask_identifier(browser, "anais-at-example.org")
    assert answer.status_code == 400
    assert "Cette adresse électronique n'est pas valide" in text(answer)
    assert jobs.wait_for_jobs() and mailbox.messages == []


# --- forgotten password --------------------------------------------------------------------


def test_parent_resets_the_password_and_everything_signed_in_before_is_signed_out(
    rp: OIDCClient, factory, mailbox
):
    account, old_password = factory.account()
    tokens = rp.exchange(rp.code_for(account.identifier, old_password)).get_json()
    other_browser = rp.browser.application.test_client()
    OIDCClient(other_browser, "", None, "").sign_in(account.identifier, old_password)
    assert other_browser.get("/").status_code == 200  # signed in there too

    fresh = rp.browser.application.test_client()
    answer = ask_reset(fresh, f" {account.identifier.upper()} ")
    assert answer.status_code == 200 and NEUTRAL_PASSWORD in text(answer)
    assert NEVER_ACTIVATED in text(answer)
    (mail,) = mails_to(mailbox, EMAIL)
    assert mail["Subject"] == "Choisissez un nouveau mot de passe"
    assert "60 minutes" in text_of(mail)
    path = reset_link(mailbox)

    form = fresh.get(path)
    assert form.status_code == 200 and account.identifier in text(form)
    assert 'name="new_password"' in text(form) and 'name="new_password_confirm"' in text(form)
    weak = choose_password(fresh, path, "azertyuiop123")
    assert weak.status_code == 400 and "au moins trois sortes" in text(weak)
    personal = choose_password(fresh, path, f"{account.identifier}-Zx9!")
    assert personal.status_code == 400 and "ni votre identifiant ni votre nom" in text(personal)
    differing = choose_password(fresh, path, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert differing.status_code == 400 and "ne sont pas identiques" in text(differing)

    done = choose_password(fresh, path)
    assert done.status_code == 200 and "Votre mot de passe est modifié" in text(done)

    # Every session, token and refresh token of the account ends.
    assert other_browser.get("/").location.endswith("/login")
    assert rp.browser.get("/").location.endswith("/login")
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    assert rp.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert db.session.scalar(db.select(LoginSession).filter_by(ended_at=None)) is None
    token = db.session.scalar(db.select(Token).filter_by(account_id=account.id))
    assert token.access_token_revoked_at and token.refresh_token_revoked_at

    # The old password no longer works; the new one does.
    signer = OIDCClient(fresh, "", None, "")
    assert signer.sign_in(account.identifier, old_password).status_code == 401
    assert signer.sign_in(account.identifier, NEW_PASSWORD).status_code == 302

    # The notice, without a link; the link works once.
    notice = mails_to(mailbox, EMAIL)[-1]
    assert notice["Subject"] == "Votre mot de passe a été modifié"
    assert links_in(notice) == [] and account.identifier in text_of(notice)
    again = fresh.get(path)
    assert again.status_code == 400 and "Ce lien a déjà servi." in text(again)
    assert [e.details["outcome"] for e in events("recovery_requested")] == ["mail_sent"]
    assert len(events("password_reset")) == 1
    assert all(
        NEW_PASSWORD not in str(e.details) for e in db.session.scalars(db.select(AuditEvent))
    )


def test_reset_link_expires_after_an_hour(browser, factory, mailbox):
    account, _ = factory.account()
    password_hash = account.password_hash
    ask_reset(browser, account.identifier)
    path = reset_link(mailbox)
    flow = db.session.scalar(db.select(Flow).filter_by(kind=PASSWORD_RESET))
    assert abs(flow.expires_at - flow.created_at - timedelta(hours=1)) < timedelta(seconds=1)
    assert flow.mailed_at is not None  # the SMTP server took the mail

    flow.expires_at = utcnow() - timedelta(seconds=1)  # an hour later
    db.session.commit()

    answer = browser.get(path)
    assert answer.status_code == 400 and "Ce lien a expiré." in text(answer)
    other_form = browser.get("/recovery/password").get_data(as_text=True)  # a token, same session
    fields = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    refused = browser.post(path, data={"csrf_token": csrf_token(other_form), **fields})
    assert refused.status_code == 400 and "Ce lien a expiré." in text(refused)
    db.session.refresh(account)
    assert account.password_hash == password_hash
    assert "Recevoir un nouveau lien" in text(answer)


def test_newer_link_replaces_the_older_one(browser, factory, mailbox):
    account, _ = factory.account()
    ask_reset(browser, account.identifier)
    first = reset_link(mailbox)
    ask_reset(browser, account.identifier)
    second = reset_link(mailbox)
    assert first != second

    older = browser.get(first)
    assert older.status_code == 400 and "Un lien plus récent vous a été envoyé" in text(older)
    assert choose_password(browser, second).status_code == 200


def test_mangled_link_says_so(browser, mailbox):
    answer = browser.get("/recovery/password/not-a-real-token")
    assert answer.status_code == 400
    assert "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier." in text(answer)


def test_link_of_an_account_locked_since_is_refused(browser, factory, mailbox):
    account, password = factory.account()
    ask_reset(browser, account.identifier)
    path = reset_link(mailbox)
    account.status = LOCKED
    db.session.commit()

    answer = browser.get(path)
    assert answer.status_code == 400 and "Adressez-vous à l'école" in text(answer)
    db.session.refresh(account)
    assert account.status == LOCKED


@pytest.mark.parametrize("status", ["unknown", PROVISIONAL, PENDING_EMAIL, LOCKED])
def test_no_reset_mail_unless_the_account_is_active_with_a_confirmed_address(
    browser, factory, mailbox, status
):
    identifier = "x.inconnu42"
    if status != "unknown":
        account, _ = factory.account(status=status)
        account.email, account.email_verified = EMAIL, status == LOCKED
        db.session.commit()
        identifier = account.identifier

    answer = ask_reset(browser, identifier)

    assert answer.status_code == 200 and NEUTRAL_PASSWORD in text(answer)
    assert mails_to(mailbox, EMAIL) == []
    assert db.session.scalar(db.select(Flow)) is None
    (event,) = events("recovery_requested")
    assert event.details["outcome"] == "no_mail"


def test_a_parent_gets_at_most_three_reset_mails_in_ten_minutes(browser, factory, mailbox):
    account, _ = factory.account()
    for _ in range(5):
        assert ask_reset(browser, account.identifier).status_code == 200
    assert len(mails_to(mailbox, EMAIL)) == 3
    outcomes = sorted(e.details["outcome"] for e in events("recovery_requested"))
    assert outcomes == ["mail_limit"] * 2 + ["mail_sent"] * 3


def test_the_mail_speaks_the_language_of_the_page(browser, factory, mailbox):
    account, _ = factory.account()
    form_page = browser.get("/recovery/password", headers={"Accept-Language": "en"})
    sent(
        browser.post(
            "/recovery/password",
            data={"identifier": account.identifier, "csrf_token": csrf_token(text(form_page))},
            headers={"Accept-Language": "en"},
        )
    )
    (mail,) = mails_to(mailbox, EMAIL)
    assert mail["Subject"] == "Choose a new password"


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

    def send(value: str) -> tuple[float, tuple[int, str]]:
        """One submit of the form, timed as a visitor measures it: the POST alone."""
        form_page = browser.get(path)
        data = {"csrf_token": csrf_token(form_page.get_data(as_text=True)), field: value}
        started = time.perf_counter()
        response = browser.post(path, data=data, environ_base={"REMOTE_ADDR": ip_address()})
        elapsed = time.perf_counter() - started
        sent(response)
        jobs.wait_for_jobs()  # no job may slow the next request measured
        assert response.status_code == 200
        return elapsed, masked(response)

    assert_same_pages_and_timing(send, existing or account.identifier, missing)
    assert len(mails_to(mailbox, EMAIL)) == 3  # the mail budget; the page said the same each time


def test_a_reset_cancels_an_address_change_asked_before(app, browser, factory, mailbox):
    # Whoever knew the old password asked to move the address to theirs; the parent resets.
    account, password = factory.account()
    intruder = app.test_client()
    OIDCClient(intruder, "", None, "").sign_in(account.identifier, password)
    page = intruder.get("/compte/adresse").get_data(as_text=True)
    intruder.post(
        "/compte/adresse", data={"email": "intrus@example.net", "csrf_token": csrf_token(page)}
    )
    (change,) = links_in(mailbox.last_to("intrus@example.net"))

    ask_reset(browser, account.identifier)
    assert choose_password(browser, reset_link(mailbox)).status_code == 200

    assert app.test_client().get(urlsplit(change).path).status_code == 400
    db.session.refresh(account)
    assert account.email == EMAIL
