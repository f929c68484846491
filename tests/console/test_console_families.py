"""A director finds a family of their school and helps it: the help-desk reset with a new PDF
letter (the old one dead), unlock, resending the activation mail, resolving a "not the legal
guardian" report. Each action asks for confirmation, asks again for the second factor when the
last one is old, and is audited with the staff member's identity."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, Link, StaffSession
from idp.models.base import utcnow
from idp.passwords import check_password
from tests.console.helpers import (
    make_staff,
    message_ids,
    next_code,
    post_form,
    sign_in,
)
from tests.factories import CHILDREN
from tests.mailbox import links_in


def signed_in_director(browser):
    staff = make_staff()
    sign_in(browser, staff)
    return staff


def test_families_are_searched_by_parent_child_class_or_identifier(app, browser, factory):
    anais, _ = factory.account(status="provisional", email=None)
    signed_in_director(browser)
    for query in ("Anaïs", "Noé", "CE2", anais.identifier, "lefèvre"):
        page = browser.get("/ecole/familles", query_string={"q": query}).get_data(as_text=True)
        assert anais.identifier in page, query
    page = browser.get("/ecole/familles?q=Zoé").get_data(as_text=True)
    assert anais.identifier not in page


def test_families_are_filtered_by_class_and_status(app, browser, factory):
    anais, _ = factory.account(status="provisional", email=None)
    signed_in_director(browser)
    page = browser.get("/ecole/familles?classe=CP&statut=provisional").get_data(as_text=True)
    assert anais.identifier in page and 'data-status="provisional"' in page
    assert "courrier de 0 jour" in page  # the letter's age
    assert anais.identifier not in browser.get("/ecole/familles?statut=active").get_data(True)
    assert anais.identifier not in browser.get("/ecole/familles?classe=CM2").get_data(True)


def test_the_reset_gives_a_new_letter_and_kills_the_old_password(app, browser, factory):
    account, old_password = factory.account()
    staff = signed_in_director(browser)
    url = f"/ecole/comptes/{account.identifier}/reinitialiser"
    confirm = browser.get(url)
    assert confirm.status_code == 200  # a confirmation page first: nothing changed yet
    db.session.refresh(account)
    assert account.status == "active"

    done = post_form(browser, url, page=confirm.get_data(as_text=True))
    assert done.status_code == 302
    page = browser.get(done.location).get_data(as_text=True)
    assert "console.reset_done" in message_ids(page)
    download = page.split('id="new-letter"><a class="button" href="')[1].split('"')[0]
    letter = browser.get(download)
    assert letter.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(letter.data)).pages[0].extract_text()
    assert account.identifier in text

    db.session.refresh(account)
    assert account.status == "provisional"
    assert not check_password(old_password, account.password_hash)
    event = db.session.scalar(select(AuditEvent).filter_by(event="console_account_reset"))
    assert event.account_id == account.id
    assert event.details["by_staff_id"] == staff.id
    assert event.details["by_staff_email"] == staff.email


def test_a_reset_asks_for_the_second_factor_again_after_fifteen_minutes(app, browser, factory):
    account, _ = factory.account()
    staff = signed_in_director(browser)
    item = db.session.scalar(select(StaffSession).filter_by(stage="signed_in"))
    item.second_factor_at = utcnow() - timedelta(seconds=app.config["STAFF_REAUTH_TTL"] + 1)
    db.session.commit()
    url = f"/ecole/comptes/{account.identifier}/reinitialiser"
    asked = browser.get(url)
    assert asked.status_code == 302 and "/ecole/verification" in asked.location
    page = browser.get(asked.location).get_data(as_text=True)
    refused = post_form(browser, "/ecole/verification", {"totp": "000000", "next": url}, page)
    assert refused.status_code == 401
    given = post_form(browser, "/ecole/verification", {"totp": next_code(staff), "next": url}, page)
    assert given.location.endswith(url)
    assert browser.get(url).status_code == 200
    # The import asks too (same rule), and a next that leaves the console is not followed.
    item.second_factor_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert "/ecole/verification" in browser.get("/ecole/import").location
    page = browser.get("/ecole/verification").get_data(as_text=True)
    away = post_form(
        browser, "/ecole/verification", {"totp": next_code(staff), "next": "//evil.example/"}, page
    )
    assert away.location.endswith("/ecole/familles")


def test_unlock_brings_a_locked_account_back(app, browser, factory):
    account, password = factory.account()
    account.status, account.locked_reason = "locked", "too_many_login_failures"
    account.failed_logins = 7
    db.session.commit()
    staff = signed_in_director(browser)
    page = browser.get(f"/ecole/comptes/{account.identifier}").get_data(as_text=True)
    assert "Trop de mots de passe erronés" in page
    done = post_form(browser, f"/ecole/comptes/{account.identifier}/debloquer")
    assert "console.unlocked" in message_ids(browser.get(done.location).get_data(as_text=True))
    db.session.refresh(account)
    assert (account.status, account.failed_logins) == ("active", 0)
    assert check_password(password, account.password_hash)
    event = db.session.scalar(select(AuditEvent).filter_by(event="console_account_unlocked"))
    assert event.details["by_staff_id"] == staff.id


def test_the_activation_mail_is_sent_again(app, browser, factory, mailbox):
    account, _ = factory.account(status="pending_email")
    account.email = "anais@example.org"
    db.session.commit()
    signed_in_director(browser)
    done = post_form(browser, f"/ecole/comptes/{account.identifier}/activation")
    assert "console.activation_resent" in message_ids(browser.get(done.location).get_data(True))
    (link,) = links_in(mailbox.last_to("anais@example.org"))
    assert "/activation/confirm/" in link


def test_a_not_guardian_report_is_resolved_by_unlinking_the_child(app, browser, factory):
    account, _ = factory.account(status="provisional", email=None)
    noe = account.children[0]
    account.status, account.locked_reason = "locked", "reported_not_guardian"
    db.session.add(
        AuditEvent(
            event="activation_not_guardian_reported",
            account_id=account.id,
            details={"child_ref": noe.ref},
        )
    )
    db.session.commit()
    staff = signed_in_director(browser)
    listed = browser.get("/ecole/familles?statut=reported").get_data(as_text=True)
    assert account.identifier in listed
    url = f"/ecole/comptes/{account.identifier}/signalement"
    page = browser.get(url).get_data(as_text=True)
    assert "Noé Lefèvre" in page
    done = post_form(browser, url, {"decision": "confirmed"}, page)
    assert done.status_code == 302
    db.session.refresh(account)
    assert account.status == "provisional"  # Inès is still linked: activation resumes
    assert [child.given_name for child in account.children] == ["Inès"]
    event = db.session.scalar(select(AuditEvent).filter_by(event="console_report_resolved"))
    assert event.details["child_ref"] == noe.ref and event.details["by_staff_id"] == staff.id


def test_a_report_made_by_mistake_restores_the_link(app, browser, factory):
    account, _ = factory.account(status="provisional", email=None)
    account.status, account.locked_reason = "locked", "reported_not_guardian"
    db.session.commit()
    signed_in_director(browser)
    url = f"/ecole/comptes/{account.identifier}/signalement"
    post_form(browser, url, {"decision": "restored"})
    db.session.refresh(account)
    assert account.status == "provisional" and len(account.links) == 2
    assert db.session.scalar(select(Link).filter_by(account_id=account.id)) is not None


def test_actions_on_the_wrong_status_change_nothing(app, browser, factory):
    account, _ = factory.account()
    signed_in_director(browser)
    for action, message in [
        ("debloquer", "console.not_locked"),
        ("activation", "console.not_pending"),
        ("signalement", "console.no_report"),
    ]:
        answer = browser.get(f"/ecole/comptes/{account.identifier}/{action}")
        assert message in message_ids(browser.get(answer.location).get_data(as_text=True))
    db.session.refresh(account)
    assert account.status == "active"


def test_an_action_without_its_csrf_token_changes_nothing(app, browser, factory):
    account, _ = factory.account()
    signed_in_director(browser)
    answer = browser.post(f"/ecole/comptes/{account.identifier}/reinitialiser")
    assert answer.status_code == 400
    db.session.refresh(account)
    assert account.status == "active"


def test_a_report_confirmed_on_the_only_child_disables_the_account(app, browser, factory):
    account, _ = factory.account(status="provisional", email=None, children=CHILDREN[:1])
    account.status, account.locked_reason = "locked", "reported_not_guardian"
    db.session.commit()
    signed_in_director(browser)
    post_form(
        browser, f"/ecole/comptes/{account.identifier}/signalement", {"decision": "confirmed"}
    )
    db.session.expire_all()
    assert account.status == "disabled" and account.links == []
    events = set(db.session.scalars(select(AuditEvent.event).filter_by(account_id=account.id)))
    assert {"console_report_resolved", "account_disabled"} <= events
