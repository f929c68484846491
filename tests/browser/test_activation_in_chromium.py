"""In Chromium, on a phone-sized screen, a person holding the school's letter activates the
account from the LSU demo: sign in with the letter's credentials, fill the activation form, read
the mail that really arrived, open its link in the same page, and land back on the LSU demo
showing the children."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import Factory
from tests.mailbox import links_in

NEW_PASSWORD = "Trousse-Verte-88"
EMAIL = "anais.lefevre@example.org"
SCREENSHOT = "/tmp/activation-form.png"  # noqa: S108 (asked for there, for a person to look at)


def sign_in_from_the_lsu_demo(phone, lsu_server: str, live_server, identifier, password) -> None:
    phone.goto(lsu_server)
    phone.get_by_text("Se connecter avec mon compte parent").click()
    expect(phone.locator("h1")).to_have_text("Connexion à votre compte parent")
    phone.get_by_label("Identifiant").fill(identifier)
    phone.get_by_label("Mot de passe").fill(password)
    phone.get_by_role("button", name="Se connecter").click()
    phone.wait_for_url(f"{live_server.url}/activation")
    expect(phone.locator("h1")).to_have_text("Activez votre compte")


def fill_activation_form(phone, email: str, birthdate: str) -> None:
    phone.get_by_label("Adresse électronique").fill(email)
    phone.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("Confirmez le nouveau mot de passe").fill(NEW_PASSWORD)
    phone.get_by_label("Date de naissance de l'enfant").fill(birthdate)  # one text field


def test_parent_activates_from_the_lsu_demo_and_lands_back_on_the_children(
    app, live_server, lsu_server, mailbox, phone
):
    account, letter_password = Factory(app).account(status="provisional", email=None)
    sign_in_from_the_lsu_demo(phone, lsu_server, live_server, account.identifier, letter_password)

    # The child whose birth date is asked, and the password rule before any typing.
    expect(phone.get_by_text("Noé Lefèvre")).to_be_visible()
    expect(phone.locator("#password-rule")).to_contain_text("au moins 12 caractères")
    phone.screenshot(path=SCREENSHOT, full_page=True)

    fill_activation_form(phone, EMAIL, "2016-02-14")
    phone.get_by_role("button", name="Activer mon compte").click()
    sent = phone.locator('[data-message-id="activation.mail_on_its_way"]')  # "check your mail"
    expect(sent).to_have_attribute("role", "status")
    expect(sent).to_contain_text(EMAIL)

    # The mail that really arrived over SMTP, and its one link, opened in the same page.
    (link,) = links_in(mailbox.last_to(EMAIL))
    assert link.startswith(f"{live_server.url}/activation/confirm/")
    phone.goto(link)
    phone.locator('[data-action="confirm-link"]').click()  # opening it changes nothing

    phone.wait_for_url(f"{lsu_server}/")
    expect(phone.get_by_text("Bonjour Anaïs Lefèvre")).to_be_visible()
    expect(phone.get_by_role("heading", name="Noé Lefèvre")).to_be_visible()
    expect(phone.get_by_role("heading", name="Inès Lefèvre")).to_be_visible()


def test_wrong_birth_date_is_shown_beside_the_field_with_the_tries_left(
    app, live_server, lsu_server, mailbox, phone
):
    account, letter_password = Factory(app).account(status="provisional", email=None)
    sign_in_from_the_lsu_demo(phone, lsu_server, live_server, account.identifier, letter_password)

    fill_activation_form(phone, EMAIL, "2016-02-15")  # one day off
    phone.get_by_role("button", name="Activer mon compte").click()

    expect(phone.locator("h1")).to_have_text("Activez votre compte")  # still the form
    summary = phone.locator(".error-summary")
    expect(summary).to_contain_text("Le formulaire contient des erreurs")
    expect(summary).to_be_focused()  # focus moved to the summary, which links to the field
    summary.get_by_role("link").click()
    expect(phone.get_by_label("Date de naissance de l'enfant")).to_be_focused()
    birthdate = phone.get_by_label("Date de naissance de l'enfant")
    expect(birthdate).to_have_attribute("aria-invalid", "true")
    errors = phone.locator("#child_birthdate ~ .error")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_have_attribute("data-message-id", "activation.birthdate_wrong")
    expect(errors.nth(1)).to_have_attribute("data-message-id", "activation.tries_left")
    expect(errors.nth(1)).to_contain_text("4")
    # Beside the field: right under it, before the next control of the form.
    field_box, error_box = birthdate.bounding_box(), errors.first.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 24

    # What was typed is kept, the new password too (it was right): no field to type again.
    expect(phone.get_by_label("Adresse électronique")).to_have_value(EMAIL)
    expect(phone.get_by_label("Nouveau mot de passe", exact=True)).to_have_value(NEW_PASSWORD)
    expect(phone.get_by_label("Adresse électronique")).not_to_have_attribute("aria-invalid", "true")
    assert mailbox.messages == []


def test_screen_readers_hear_every_error_of_the_birth_date_field(
    app, live_server, lsu_server, mailbox, phone
):
    account, letter_password = Factory(app).account(status="provisional", email=None)
    sign_in_from_the_lsu_demo(phone, lsu_server, live_server, account.identifier, letter_password)
    fill_activation_form(phone, EMAIL, "2016-02-15")
    phone.get_by_role("button", name="Activer mon compte").click()

    expect(phone.locator("#child_birthdate ~ .error")).to_have_count(2)  # the page is there
    birthdate = phone.get_by_label("Date de naissance de l'enfant")
    expect(birthdate).to_have_accessible_description(
        re.compile(r"ne correspond pas .*Essais restants : 4\."), timeout=500
    )
    ids = phone.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids)), ids
