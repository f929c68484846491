"""A parent holding the school's letter activates the account, starting from a teleservice, and
lands back on it signed in: letter → login → activation form → mail → link → teleservice."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from idp.extensions import db
from idp.models import AuditEvent
from tests.mailbox import links_in, text_of
from tests.oidc_client import OIDCClient, csrf_token, query_of

NEW_PASSWORD = "Trousse-Verte-88"


def activation_form(browser, **fields):
    page = browser.get("/activation")
    data = {
        "email": "anais@example.org",
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
        "child_birthdate": "14/02/2016",
        "csrf_token": csrf_token(page.get_data(as_text=True)),
    }
    data.update(fields)
    return browser.post("/activation", data=data)


def test_parent_activates_from_a_teleservice_and_lands_back_with_the_children(
    rp: OIDCClient, factory, mailbox
):
    account, letter_password = factory.account(status="provisional", email=None)

    # The teleservice sends the parent to sign in with the letter's credentials.
    response = rp.follow(rp.sign_in(account.identifier, letter_password, rp.authorize().location))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Activez votre compte" in page
    assert "Noé Lefèvre" in page  # the child whose birth date is asked
    assert "au moins 12 caractères" in page  # the rule, before typing

    # The form, in one submit; the mail really goes out over SMTP.
    answer = activation_form(rp.browser, child_birthdate="2016-02-14")
    assert answer.status_code == 200
    assert "anais@example.org" in answer.get_data(as_text=True)
    mail = mailbox.last_to("anais@example.org")
    assert mail["Subject"] == "Confirmez votre adresse électronique"
    (link,) = links_in(mail)  # exactly one link: the action link
    assert "Noé" not in text_of(mail)  # no child's data in a mail
    db.session.refresh(account)
    assert account.status == "pending_email"

    # The new password replaced the letter's at once.
    other = rp.browser.application.test_client()
    refused = OIDCClient(other, rp.client_id, rp.client_secret, rp.redirect_uri)
    assert refused.sign_in(account.identifier, letter_password).status_code == 401

    # The link, in the same browser: back on the teleservice with a code.
    back = rp.browser.get(urlsplit(link).path)
    back = rp.follow(back)
    assert back.location.startswith(rp.redirect_uri)
    code = query_of(back.location)["code"]
    tokens = rp.exchange(code).get_json()
    claims = rp.id_token_claims(tokens["id_token"])
    assert [child["given_name"] for child in claims["children"]] == ["Noé", "Inès"]
    assert claims["email"] == "anais@example.org" and claims["email_verified"] is True

    events = [e.event for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    for step in ("login", "activation_submitted", "activation_mail_sent", "activation_confirmed"):
        assert step in events


def test_link_opened_in_another_browser_confirms_and_offers_to_sign_in(browser, factory, mailbox):
    account, password = factory.account(status="provisional", email=None)
    signer = OIDCClient(browser, "", None, "")
    signer.sign_in(account.identifier, password)
    activation_form(browser)
    (link,) = links_in(mailbox.last_to("anais@example.org"))

    phone = browser.application.test_client()
    page = phone.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Votre compte est activé" in page.get_data(as_text=True)
    assert "Se connecter" in page.get_data(as_text=True)
    db.session.refresh(account)
    assert account.status == "active" and account.email_verified
    assert account.children[0].birthdate == date(2016, 2, 14)
