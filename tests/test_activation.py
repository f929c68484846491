"""A parent holding the school's letter activates the account, starting from a teleservice, and
lands back on it signed in: letter → login → activation form → mail → link → teleservice."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from idp.extensions import db
from tests.mailbox import links_in, text_of
from tests.oidc_client import OIDCClient, query_of
from tests.parent import Page, Parent

NEW_PASSWORD = "Trousse-Verte-88"


def activation_form(parent: Parent, **fields) -> Page:
    """The activation form, filled in rightly unless a field is given."""
    data = {
        "email": "anais@example.org",
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
        "child_birthdate": "14/02/2016",
    }
    return parent.submit("/activation", "/activation", **{**data, **fields})


def test_parent_activates_from_a_teleservice_and_lands_back_with_the_children(
    rp: OIDCClient, parent: Parent, make_parent, factory, mailbox
):
    account, letter_password = factory.account(status="provisional", email=None)

    # The teleservice sends the parent to sign in with the letter's credentials.
    response = parent.sign_in(
        account.identifier, letter_password, rp.authorize().location, follow=True
    )
    assert response.status_code == 200 and "Activez votre compte" in response.text
    assert "Noé Lefèvre" in response.text  # the child whose birth date is asked
    assert "au moins 12 caractères" in response.text  # the rule, before typing

    # The form, in one submit; the mail is on its way (the outbox), and really goes out over SMTP.
    answer = activation_form(parent, child_birthdate="2016-02-14")
    assert answer.status_code == 200
    (sent,) = [m for m in answer.messages if m.id == "activation.mail_on_its_way"]
    assert "anais@example.org" in sent.text
    mail = mailbox.last_to("anais@example.org")
    assert mail["Subject"] == "Confirmez votre adresse électronique"
    (link,) = links_in(mail)  # exactly one link: the action link
    assert "Noé" not in text_of(mail)  # no child's data in a mail
    db.session.refresh(account)
    assert account.status == "pending_email"

    # The new password replaced the letter's at once.
    refused = make_parent().sign_in(account.identifier, letter_password)
    assert refused.status_code == 401 and refused.alert_ids == ["login.failed"]

    # The link, in the same browser: back on the teleservice with a code.
    back = parent.follow(parent.open_link(urlsplit(link).path))
    assert back.location.startswith(rp.redirect_uri)
    code = query_of(back.location)["code"]
    tokens = rp.exchange(code).get_json()
    claims = rp.id_token_claims(tokens["id_token"])
    assert [child["given_name"] for child in claims["children"]] == ["Noé", "Inès"]
    assert claims["email"] == "anais@example.org" and claims["email_verified"] is True

    events = parent.events(account)
    for step in ("login", "activation_submitted", "activation_mail_sent", "activation_confirmed"):
        assert step in events


def test_link_opened_in_another_browser_confirms_and_offers_to_sign_in(
    parent: Parent, make_parent, factory, mailbox
):
    account, password = factory.account(status="provisional", email=None)
    parent.signed_in_as(account, password)
    activation_form(parent)
    (link,) = links_in(mailbox.last_to("anais@example.org"))

    page = make_parent().open_link(urlsplit(link).path)
    assert page.status_code == 200
    assert page.message_ids == ["activation.confirmed"]
    assert "/login" in page.links() and "Se connecter" in page.text
    db.session.refresh(account)
    assert account.status == "active" and account.email_verified
    assert account.children[0].birthdate == date(2016, 2, 14)
