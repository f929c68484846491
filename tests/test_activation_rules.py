"""Each rule of the first-login activation (issue 3), one test apiece.

Every test drives the pages as a parent's browser would (the school's letter, the login page, the
activation form, the mail that really arrived over SMTP, its link) and then checks both what the
parent sees (status, French text, each error beside its own field) and what the database holds.
The child whose birth date is asked is the first of tests/factories.py: Noé, born 2016-02-14.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import dns.resolver
import pytest

from idp import outbox
from idp.extensions import db
from idp.models import AuditEvent, AuthorizationCode, Flow, LoginSession, OutboxItem
from idp.models.base import utcnow
from idp.passwords import policy_problems, secret_hash
from idp.provisioning.accounts import describe_account
from tests.conftest import Browser
from tests.mailbox import html_of, links_in, text_of, wait_for_outbox
from tests.oidc_client import OIDCClient
from tests.parent import Page, Parent

EMAIL = "anais@example.org"
NEW_PASSWORD = "Trousse-Verte-88"
BIRTHDATE = "14/02/2016"  # Noé's
WRONG_BIRTHDATE = "15/02/2016"
# 64 characters of accented French: 80 bytes in UTF-8, beyond bcrypt's 72.
UNICODE_PASSWORD = "Ça été une très belle journée à l'école, vive les vacances d'été"
# 100 characters: a passphrase.
PASSPHRASE = (
    "Le chat de la voisine dort sur le toit du garage depuis lundi, "
    "et personne ne sait pourquoi, 2026 !!"
)
OUTBOX = Path(__file__).resolve().parent.parent / "instance" / "outbox"


# --- helpers -------------------------------------------------------------------------------


def letter(factory, **options):
    """A provisional account as the school's letter hands it over, and the letter's password."""
    return factory.account(status="provisional", email=None, **options)


def signed_in_letter(parent: Parent, factory, **options):
    account, password = letter(factory, **options)
    parent.signed_in_as(account, password)
    return account, password


def submit(parent: Parent, **fields) -> Page:
    """The activation form, filled in rightly unless a field is given."""
    data = {
        "email": EMAIL,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
        "child_birthdate": BIRTHDATE,
    }
    return parent.submit("/activation", "/activation", **{**data, **fields})


def press(parent: Parent, action: str, **fields) -> Page:
    """A button of the activation page ("Renvoyer le message", "Corriger l'adresse"…)."""
    return parent.submit("/activation", action, **fields)


def link_path(mailbox, address: str = EMAIL) -> str:
    """The path of the only link of the last mail to `address` (once the outbox is empty)."""
    wait_for_outbox()
    (link,) = links_in(mailbox.last_to(address))
    return urlsplit(link).path


def activated(parent: Parent, factory, mailbox, **fields):
    """A letter signed in and the form sent: the account is pending_email, the mail out."""
    account, password = signed_in_letter(parent, factory)
    response = submit(parent, **fields)
    assert response.status_code == 200, response.message_ids
    return account, password, link_path(mailbox, fields.get("email", EMAIL))


def reloaded(account):
    db.session.refresh(account)
    return account


def flows_of(account) -> list[Flow]:
    return list(db.session.scalars(db.select(Flow).filter_by(account_id=account.id)))


def events_of(account) -> list[AuditEvent]:
    query = db.select(AuditEvent).filter_by(account_id=account.id).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def signed_out(parent: Parent, account) -> bool:
    """No live session in the browser, and the account's sessions ended in the database."""
    sessions = db.session.scalars(db.select(LoginSession).filter_by(account_id=account.id))
    ended = all(s.ended_at is not None for s in sessions)
    held = parent.open("/activation")
    return ended and held.status_code == 302 and urlsplit(held.location).path == "/login"


def assert_unchanged_letter(account, password_hash: str, failures: int = 0) -> None:
    account = reloaded(account)
    assert account.status == "provisional"
    assert account.email is None
    assert account.password_hash == password_hash
    assert account.activation_failures == failures
    assert flows_of(account) == []


@pytest.fixture
def outbox_files():
    """The .eml files this test adds to instance/outbox/ (found by their recipient), removed
    afterwards; other files there, maybe other engineers' runs, are left alone."""
    before = set(OUTBOX.glob("*.eml")) if OUTBOX.exists() else set()
    found: list[Path] = []

    def created(address: str) -> list[Path]:
        fresh = [p for p in OUTBOX.glob("*.eml") if p not in before]
        found.extend(p for p in fresh if address in p.read_text() and p not in found)
        return [p for p in found if p.exists()]

    yield created
    for path in found:
        path.unlink(missing_ok=True)


# --- 1. everything checked in one submit ----------------------------------------------------


def test_one_submit_shows_every_error_beside_its_own_field(parent, factory, mailbox):
    account, _ = signed_in_letter(parent, factory)
    hash_before = account.password_hash

    response = submit(
        parent,
        email="anais@@example.org",
        new_password="Court-1a",
        new_password_confirm="Autre-Chose-2026",
        child_birthdate=WRONG_BIRTHDATE,
    )

    assert response.status_code == 400
    assert response.errors("email") == ["field.email_invalid"]
    assert response.errors("new_password") == ["password.too_short"]
    assert response.errors("new_password_confirm") == ["field.passwords_differ"]
    birthdate = response.shown("child_birthdate")
    assert [item.id for item in birthdate] == [
        "activation.birthdate_wrong",
        "activation.tries_left",
    ]
    assert "4" in birthdate[1].text  # tries left
    (email,) = response.tree.find_all("input", name="email")
    assert email["value"] == "anais@@example.org"  # the address typed is kept
    raw = response.html
    assert "Court-1a" not in raw and "Autre-Chose-2026" not in raw  # never a password
    assert_unchanged_letter(account, hash_before, failures=1)  # only the wrong date counted
    assert mailbox.messages == []


# --- 2. password policy ---------------------------------------------------------------------

REFUSED_PASSWORDS = [
    pytest.param(lambda a: "Soleil-2026", {}, "password.too_short", id="11-characters"),
    pytest.param(lambda a: "soleilvertpluie42", {}, "password.too_few_kinds", id="two-kinds"),
    # A two-letter family name is not checked on its own: only the identifier catches this one.
    pytest.param(
        lambda a: f"Xylophone-{a.identifier.upper()}!",
        {"family_name": "Ly"},
        "password.personal",
        id="identifier",
    ),
    pytest.param(lambda a: "Lefèvre-Soleil-2026!", {}, "password.personal", id="name"),
    pytest.param(
        lambda a: "Lefevre-Soleil-2026!",
        {},
        "password.personal",
        id="name-without-accents",
    ),
    pytest.param(lambda a: "Azerty123456!", {}, "password.common", id="azerty"),
    pytest.param(lambda a: "Motdepasse2024!", {}, "password.common", id="motdepasse"),
    pytest.param(lambda a: ("Aa1!" * 40)[:129], {}, "password.too_long", id="129-characters"),
]


@pytest.mark.parametrize(("make_password", "options", "message"), REFUSED_PASSWORDS)
def test_password_policy_refuses(parent, factory, mailbox, make_password, options, message):
    account, _ = signed_in_letter(parent, factory, **options)
    hash_before = account.password_hash
    password = make_password(account)

    response = submit(parent, new_password=password, new_password_confirm=password)

    assert response.status_code == 400
    assert response.errors("new_password") == [message]
    assert password not in response.html
    assert_unchanged_letter(account, hash_before)
    assert mailbox.messages == []


def test_the_letters_password_cannot_be_kept(app, parent, factory, mailbox):
    letter_password = "Cartable-Rouge-2026"
    account, _ = signed_in_letter(parent, factory, password=letter_password)
    personal = [account.identifier, account.given_name, account.family_name]
    with app.test_request_context():
        assert policy_problems(letter_password, personal, None) == []  # good but for this rule
    hash_before = account.password_hash

    response = submit(parent, new_password=letter_password, new_password_confirm=letter_password)

    assert response.status_code == 400
    assert response.errors("new_password") == ["password.provisional"]
    assert_unchanged_letter(account, hash_before)


LONG_PASSWORDS = [
    pytest.param(UNICODE_PASSWORD, id="unicode-64"),
    pytest.param(PASSPHRASE, id="passphrase-100"),
]


@pytest.mark.parametrize("password", LONG_PASSWORDS)
def test_long_unicode_passwords_are_accepted_and_count_whole(
    make_parent, parent, factory, mailbox, password
):
    assert len(password) in (64, 100) and len(password.encode()) > 72
    chosen = {"new_password": password, "new_password_confirm": password}
    account, _, link = activated(parent, factory, mailbox, **chosen)
    assert parent.open_link(link).status_code == 200
    assert reloaded(account).status == "active"

    signed = make_parent().sign_in(account.identifier, password)
    assert signed.status_code == 302 and urlsplit(signed.location).path == "/"
    # Differing only in the last character, past bcrypt's 72 bytes: must not sign in.
    differing = password[:-1] + "#"
    refused = make_parent().sign_in(account.identifier, differing)
    assert refused.status_code == 401
    assert refused.alert_ids == ["login.failed"]


# --- 3. email -------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["anais@", "anais@@example.org", "anais example.org"])
def test_email_syntax_is_checked(parent, factory, mailbox, address):
    account, _ = signed_in_letter(parent, factory)
    hash_before = account.password_hash

    response = submit(parent, email=address)

    assert response.status_code == 400
    assert response.errors("email") == ["field.email_invalid"]
    assert_unchanged_letter(account, hash_before)
    assert mailbox.messages == []


def test_email_is_stored_as_given(parent, factory, mailbox):
    address = "Anais.Lefevre@Example.ORG"
    account, _, _ = activated(parent, factory, mailbox, email=address)
    assert reloaded(account).email == address
    assert mailbox.last_to(address)["To"] == address


def test_email_check_makes_no_dns_lookup(parent, factory, mailbox, monkeypatch):
    address = "x@nonexistent-domain-for-tests.example"
    lookups = []

    def refuse(*args, **kwargs):
        lookups.append(args)
        raise dns.resolver.NXDOMAIN

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", refuse)
    monkeypatch.setattr(dns.resolver, "resolve", refuse)
    account, _, _ = activated(parent, factory, mailbox, email=address)

    assert lookups == []
    assert reloaded(account).status == "pending_email" and account.email == address


# --- 4. birth date --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["14/02/2016", "2016-02-14"])
def test_birth_date_in_either_format_is_accepted(parent, factory, mailbox, typed):
    account, _, _ = activated(parent, factory, mailbox, child_birthdate=typed)
    assert reloaded(account).status == "pending_email"


@pytest.mark.parametrize(
    "typed", ["14022016", "20160214", "14.02.2016", "14-2-2016", " 14 02 2016 "]
)
def test_birth_date_typed_as_on_a_phone_is_accepted(parent, factory, mailbox, typed):
    account, _, _ = activated(parent, factory, mailbox, child_birthdate=typed)
    assert reloaded(account).status == "pending_email"


def test_birth_date_is_one_numeric_text_field_never_a_date_picker(parent, factory):
    signed_in_letter(parent, factory)
    form = parent.open("/activation")
    (field,) = form.tree.find_all("input", name="child_birthdate")
    assert field["type"] == "text" and field["inputmode"] == "numeric"
    assert field["autocomplete"] == "off"
    # The page says how many tries are left and what happens at zero.
    (rule,) = [m for m in form.messages if m.id == "activation.tries_rule"]
    assert "5" in rule.text and "l'école" in rule.text


@pytest.mark.parametrize("typed", ["31/02/2016", "hier", "2016-13-01", "1422016", "14/02/22016"])
def test_unreadable_birth_date_is_a_format_error_not_an_attempt(parent, factory, mailbox, typed):
    account, _ = signed_in_letter(parent, factory)
    hash_before = account.password_hash

    response = submit(parent, child_birthdate=typed)

    assert response.status_code == 400
    assert response.errors("child_birthdate") == ["field.birthdate_format"]
    assert "activation.tries_left" not in response.message_ids
    (typed_in,) = response.tree.find_all("input", name="child_birthdate")
    assert typed_in["value"] == typed  # kept, to correct it
    assert_unchanged_letter(account, hash_before, failures=0)


def test_birth_date_in_the_future_is_a_form_error_not_an_attempt(parent, factory, mailbox):
    account, _ = signed_in_letter(parent, factory)
    hash_before = account.password_hash
    future = (utcnow() + timedelta(days=400)).strftime("%d/%m/%Y")

    response = submit(parent, child_birthdate=future)

    assert response.status_code == 400
    assert response.errors("child_birthdate") == ["field.birthdate_future"]
    assert_unchanged_letter(account, hash_before, failures=0)


def test_a_birth_date_error_keeps_the_new_password_that_was_right(parent, factory, mailbox):
    signed_in_letter(parent, factory)
    response = submit(parent, child_birthdate="hier")
    # The error summary at the top links to the field and takes the focus.
    (summary,) = response.tree.find_all("div", class_="error-summary")
    assert summary["role"] == "alert" and "autofocus" in summary.attrs
    assert [a["href"] for a in summary.find_all("a")] == ["#child_birthdate"]
    for name in ("new_password", "new_password_confirm"):
        (kept,) = response.tree.find_all("input", name=name)
        assert kept["type"] == "password" and kept["value"] == NEW_PASSWORD
    assert response.headers["Cache-Control"] == "no-store"
    # The "Afficher le mot de passe" buttons wait, hidden, for static/app.js (no inline script).
    toggles = response.tree.find_all("button", class_="toggle")
    assert len(toggles) == 2 and all("hidden" in t.attrs for t in toggles)
    # A refused password is not put back.
    refused = submit(parent, new_password_confirm="Autre-Chose-2026")
    assert NEW_PASSWORD not in refused.response.get_data(as_text=True)


def test_wrong_birth_date_counts_and_says_how_many_tries_remain(parent, factory, mailbox):
    account, _ = signed_in_letter(parent, factory)
    hash_before = account.password_hash

    first = submit(parent, child_birthdate=WRONG_BIRTHDATE)
    second = submit(parent, child_birthdate="2016-02-13")

    assert first.status_code == second.status_code == 400
    for answer, left in ((first, "4"), (second, "3")):
        wrong, tries = answer.shown("child_birthdate")
        assert (wrong.id, tries.id) == ("activation.birthdate_wrong", "activation.tries_left")
        assert left in tries.text and str(int(left) + 1) not in tries.text
    assert_unchanged_letter(account, hash_before, failures=2)
    assert [e.event for e in events_of(account)].count("activation_birthdate_wrong") == 2


def test_the_birth_date_messages_are_worded_in_french_and_in_english(parent, factory, mailbox):
    """The words behind the ids the other tests check, in both languages, on purpose."""
    signed_in_letter(parent, factory)
    for language, words in (
        (
            "fr",
            ["Cette date ne correspond pas à celle que l'école connaît.", "Essais restants : 4."],
        ),
        ("en", ["This date does not match the one the school knows.", "Tries left: 3."]),
    ):
        data = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
        answer = parent.submit(
            "/activation",
            "/activation",
            headers={"Accept-Language": language},
            email=EMAIL,
            child_birthdate=WRONG_BIRTHDATE,
            **data,
        )
        assert answer.error_texts("child_birthdate") == words, language


def test_fifth_wrong_birth_date_locks_the_account(parent, factory, mailbox):
    account, letter_password = signed_in_letter(parent, factory)
    for _ in range(4):
        assert submit(parent, child_birthdate=WRONG_BIRTHDATE).status_code == 400

    response = submit(parent, child_birthdate=WRONG_BIRTHDATE)

    assert response.status_code == 403
    assert response.alert_ids == ["activation.locked"]
    account = reloaded(account)
    assert account.status == "locked"
    assert account.locked_reason == "activation_birthdate_failures"
    assert account.activation_failures == 5
    assert signed_out(parent, account)
    # The letter's password is still the only one (the new one was never applied): locked.
    again = parent.sign_in(account.identifier, letter_password)
    assert again.status_code == 401
    assert again.alert_ids == ["login.account_locked"]
    assert parent.sign_in(account.identifier, NEW_PASSWORD).status_code == 401
    assert mailbox.messages == []


def test_right_birth_date_after_four_wrong_ones_succeeds_and_resets_the_count(
    parent, factory, mailbox
):
    account, _ = signed_in_letter(parent, factory)
    for _ in range(4):
        submit(parent, child_birthdate=WRONG_BIRTHDATE)
    assert reloaded(account).activation_failures == 4

    response = submit(parent)

    assert response.status_code == 200 and "activation.mail_on_its_way" in response.message_ids
    account = reloaded(account)
    assert account.status == "pending_email" and account.activation_failures == 0


# --- 5. provisional password expiry ---------------------------------------------------------


def test_expired_letter_password_is_refused_with_the_next_step(parent, factory, mailbox):
    account, password = factory.account(status="provisional", email=None, provisional_expired=True)

    response = parent.sign_in(account.identifier, password)

    assert response.status_code == 401
    assert response.alert_ids == ["login.provisional_expired"]
    held = parent.open("/activation")
    assert held.status_code == 302 and urlsplit(held.location).path == "/login"
    assert db.session.scalars(db.select(LoginSession).filter_by(account_id=account.id)).all() == []


# --- 6. links -------------------------------------------------------------------------------


def test_link_token_is_random_and_only_its_keyed_hash_is_stored(parent, factory, mailbox):
    account, _, link = activated(parent, factory, mailbox)
    token = link.rsplit("/", 1)[-1]

    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", token)  # at least 128 bits, url-safe
    (flow,) = flows_of(account)
    assert flow.token_hash != token and flow.token_hash == secret_hash(token)
    stored = " ".join(str(value) for value in (flow.id, flow.kind, flow.email, flow.token_hash))
    assert token not in stored


def test_link_used_twice_says_so_and_offers_to_sign_in(make_parent, parent, factory, mailbox):
    account, _, link = activated(parent, factory, mailbox)
    assert parent.open_link(link).status_code == 200

    again = make_parent().open_link(link)

    assert again.status_code == 200
    assert again.alert_ids == ["link.used"]
    assert "/login" in again.links()
    assert reloaded(account).status == "active"


def test_expired_link_is_refused_and_the_account_stays_pending(
    make_parent, parent, factory, mailbox
):
    account, _, link = activated(parent, factory, mailbox)
    (flow,) = flows_of(account)
    flow.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = make_parent().open_link(link)

    assert response.status_code == 400
    assert response.alert_ids == ["link.expired"]
    assert "/login" in response.links()  # the next step
    account = reloaded(account)
    assert account.status == "pending_email" and not account.email_verified


def test_garbage_link_is_refused(parent):
    response = parent.open("/activation/confirm/pas-un-vrai-lien")
    assert response.status_code == 400
    assert response.alert_ids == ["link.unknown"]


def test_after_a_resend_the_older_link_points_to_the_newer_one(
    make_parent, parent, factory, mailbox
):
    account, _, older = activated(parent, factory, mailbox)
    assert press(parent, "/activation/resend").status_code == 200
    newer = link_path(mailbox)
    assert newer != older

    replaced = make_parent().open_link(older)
    assert replaced.status_code == 400
    assert replaced.alert_ids == ["link.replaced"]
    assert reloaded(account).status == "pending_email"

    assert make_parent().open_link(newer).status_code == 200
    assert reloaded(account).status == "active"


# --- 7. pending_email -----------------------------------------------------------------------


def test_pending_account_signing_in_sees_check_your_mail_never_a_code(
    rp, parent, make_parent, factory, mailbox
):
    account, _, _ = activated(parent, factory, mailbox)
    later = make_parent()
    service = OIDCClient(later.browser, rp.client_id, rp.client_secret, rp.redirect_uri)

    start = service.authorize()
    assert urlsplit(start.location).path == "/login"
    response = later.sign_in(account.identifier, NEW_PASSWORD, start.location, follow=True)

    assert response.status_code == 200  # no redirect at all, let alone to the teleservice
    assert response.message_ids == ["activation.mail_sent"]  # check your mail
    assert response.form("/activation/resend") and response.form("/activation/email")
    codes = db.select(AuthorizationCode).filter_by(account_id=account.id)
    assert db.session.scalars(codes).first() is None


def test_resend_sends_a_second_mail(parent, factory, mailbox):
    activated(parent, factory, mailbox)

    response = press(parent, "/activation/resend")

    (sent,) = [m for m in response.messages if m.id == "activation.mail_on_its_way"]
    assert response.status_code == 200 and EMAIL in sent.text
    wait_for_outbox()
    assert len(mailbox.to(EMAIL)) == 2


def test_correcting_the_address_sends_there_and_retires_the_old_link(
    make_parent, parent, factory, mailbox
):
    account, _, old_link = activated(parent, factory, mailbox)
    corrected = "anais.lefevre@example.net"

    response = press(parent, "/activation/email", email=corrected)

    (sent,) = [m for m in response.messages if m.id == "activation.mail_on_its_way"]
    assert response.status_code == 200 and corrected in sent.text
    assert reloaded(account).email == corrected
    new_link = link_path(mailbox, corrected)
    assert make_parent().open_link(old_link).alert_ids == ["link.replaced"]
    assert make_parent().open_link(new_link).status_code == 200
    account = reloaded(account)
    assert account.status == "active" and account.email == corrected and account.email_verified


def test_resend_is_rate_limited(parent, factory, mailbox):
    activated(parent, factory, mailbox)
    for _ in range(3):
        assert press(parent, "/activation/resend").status_code == 200
        wait_for_outbox()  # each leaves before the next replaces its link (else: dropped)

    response = press(parent, "/activation/resend")

    assert response.status_code == 429
    assert "error.429" in response.message_ids
    assert int(response.headers["Retry-After"]) > 0
    wait_for_outbox()
    assert len(mailbox.to(EMAIL)) == 4  # the first one and three resends


# --- 8. mail content ------------------------------------------------------------------------


def test_mail_is_french_in_text_and_html_with_exactly_one_link(app, parent, factory, mailbox):
    activated(parent, factory, mailbox)
    mail = mailbox.last_to(EMAIL)

    assert mail["Subject"] == "Confirmez votre adresse électronique"
    assert "Bonjour Anaïs Lefèvre" in text_of(mail) and "Bonjour Anaïs Lefèvre" in html_of(mail)
    assert len(links_in(mail)) == 1  # the action link, the same in both parts
    issuer_host = urlsplit(app.config["ISSUER"]).hostname
    assert mail["From"] == f"ne-pas-repondre@{issuer_host}"


def test_mail_link_points_to_the_issuer(app, parent, factory, mailbox):
    activated(parent, factory, mailbox)
    (link,) = links_in(mailbox.last_to(EMAIL))
    issuer = urlsplit(app.config["ISSUER"])
    assert (urlsplit(link).scheme, urlsplit(link).netloc) == (issuer.scheme, issuer.netloc)


# --- 9. mail server down --------------------------------------------------------------------


def test_mail_server_down_keeps_the_activation_and_says_the_mail_is_on_its_way(
    parent, factory, mailbox, caplog
):
    mailbox.stop()
    account, _ = signed_in_letter(parent, factory)

    response = submit(parent)

    assert response.status_code == 200  # the page does not wait for the SMTP server
    assert "activation.mail_on_its_way" in response.message_ids and response.alert_ids == []
    assert response.form("/activation/resend")  # the way to ask for another one
    account = reloaded(account)
    assert account.status == "pending_email" and account.email == EMAIL
    assert len(flows_of(account)) == 1
    (row,) = wait_for_attempt()
    assert row.state == "pending" and row.last_error == "MailError: ConnectionRefusedError"
    events = [e.event for e in events_of(account)]
    assert "activation_submitted" in events and "activation_mail_sent" not in events
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("idp."))
    assert "not sent" in logged and EMAIL not in logged  # the address masked in logs
    # A later visit says the same: the mail is queued, not lost, not sent yet.
    assert "activation.mail_on_its_way" in parent.open("/activation").message_ids

    mailbox.start()
    assert len(mailbox.to(EMAIL, timeout=15)) == 1
    wait_for_outbox()
    assert "activation_mail_sent" in [e.event for e in events_of(account)]
    assert "activation.mail_sent" in parent.open("/activation").message_ids


def wait_for_attempt(timeout: float = 10.0) -> list[OutboxItem]:
    """The outbox's rows once the sender has tried each at least once (and let go of it)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        rows = list(db.session.scalars(db.select(OutboxItem)))
        if rows and all(row.attempts and row.claimed_by is None for row in rows):
            return rows
        assert time.monotonic() < deadline, "the sender did not try"
        time.sleep(0.05)


# --- 10. no SMTP configured -----------------------------------------------------------------


def test_without_smtp_the_mail_goes_to_the_outbox_and_its_link_is_logged(
    app, make_app, factory, caplog, outbox_files
):
    app.extensions["test_outbox_sender"].stop()  # this test's own provider delivers
    local = make_app(SMTP_URL=None)
    local.test_client_class = Browser
    parent = Parent(local.test_client())
    address = f"outbox-{secrets.token_hex(4)}@example.org"
    account, letter_password = signed_in_letter(parent, factory)
    caplog.set_level(logging.WARNING, logger="idp.mail")

    response = submit(parent, email=address)
    with local.app_context():
        assert outbox.drain() == 1

    assert response.status_code == 200
    assert Path(local.instance_path) / "outbox" == OUTBOX
    (written,) = outbox_files(address)
    mail = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert mail["To"] == address
    (link,) = links_in(mail)
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "idp.mail")
    assert link in logged
    assert NEW_PASSWORD not in logged and letter_password not in logged
    assert parent.open_link(urlsplit(link).path).status_code == 200
    assert reloaded(account).status == "active"


# --- 11. wrong child ------------------------------------------------------------------------


def test_parent_reports_not_being_the_childs_guardian(parent, factory, mailbox):
    account, _ = signed_in_letter(parent, factory)
    child_ref = account.children[0].ref
    form = parent.open("/activation")
    assert "Je ne suis pas le représentant légal de cet enfant" in form.text
    assert "/activation/not-guardian" in form.links()  # a link to its own step, no one-tap lock
    confirm = parent.open("/activation/not-guardian")
    assert confirm.status_code == 200 and "/activation" in confirm.links()  # a way back
    assert reloaded(account).status == "provisional"  # the page alone changes nothing

    response = parent.submit_on(confirm, "/activation/not-guardian")

    assert response.status_code == 200
    assert response.message_ids == ["activation.reported"]
    account = reloaded(account)
    assert account.status == "locked" and account.locked_reason == "reported_not_guardian"
    assert describe_account(account)["locked_reason"] == "reported_not_guardian"
    (report,) = [e for e in events_of(account) if e.event == "activation_not_guardian_reported"]
    assert report.details["child_ref"] == child_ref
    assert signed_out(parent, account)
    assert mailbox.messages == []


# --- 12. audit ------------------------------------------------------------------------------


def test_every_step_is_audited_with_an_address_and_never_a_secret(parent, factory, mailbox):
    account, letter_password = signed_in_letter(parent, factory)
    refused_password = "Autre-Essai-Refuse-77"
    submit(
        parent,
        new_password=refused_password,
        new_password_confirm=refused_password,
        child_birthdate=WRONG_BIRTHDATE,
    )
    submit(parent)
    link = link_path(mailbox)
    assert parent.open_link(link).status_code == 200

    events = events_of(account)
    steps = [e.event for e in events]
    for step in (
        "login",
        "activation_birthdate_wrong",
        "activation_submitted",
        "activation_mail_sent",
        "activation_confirmed",
    ):
        assert step in steps, step
    by_the_parent = [e for e in events if e.event != "account_created"]  # that one: the school
    assert all(e.ip_address == "127.0.0.1" for e in by_the_parent), [
        (e.event, e.ip_address) for e in by_the_parent
    ]
    everything = db.session.scalars(db.select(AuditEvent)).all()
    details = json.dumps([e.details for e in everything], ensure_ascii=False)
    token = link.rsplit("/", 1)[-1]
    for secret in (NEW_PASSWORD, refused_password, letter_password, token):
        assert secret not in details


# --- 13. the gate ---------------------------------------------------------------------------


def test_provisional_account_is_held_on_the_activation_page(parent, factory, new_rp):
    signed_in_letter(parent, factory)

    portal = parent.open("/")
    other_service = new_rp(name="Cantine").authorize()

    for response in (portal, other_service):
        assert response.status_code == 302
        assert urlsplit(response.location).path == "/activation"


def test_active_account_on_the_activation_page_goes_to_the_portal(parent, factory):
    account, password = factory.account()
    parent.sign_in(account.identifier, password)

    response = parent.open("/activation")

    assert response.status_code == 302 and urlsplit(response.location).path == "/"


# --- 14. CSRF -------------------------------------------------------------------------------


def test_activation_post_without_csrf_token_is_refused(parent, factory, mailbox):
    account, _ = signed_in_letter(parent, factory)
    hash_before = account.password_hash

    response = Page(
        parent.browser.post(
            "/activation",
            data={
                "email": EMAIL,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
                "child_birthdate": WRONG_BIRTHDATE,
            },
        )
    )

    assert response.status_code == 400 and "error.form_expired" in response.message_ids
    assert_unchanged_letter(account, hash_before)
    assert mailbox.messages == []
