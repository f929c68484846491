"""In Chromium, on a phone-sized screen: a parent opens the LSU demo, signs in on the provider's
page and sees each child; a parent whose account is not activated never gets through."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import Factory


def test_active_parent_signs_in_from_the_lsu_demo_and_sees_the_children(
    app, live_server, lsu_server, phone
):
    account, password = Factory(app).account()
    phone.goto(lsu_server)
    phone.get_by_text("Se connecter avec mon compte parent").click()

    expect(phone.locator("h1")).to_have_text("Connexion à votre compte parent")
    expect(phone.get_by_text("Livret scolaire unique (démonstration)")).to_be_visible()
    phone.get_by_label("Identifiant").fill(account.identifier)
    phone.get_by_label("Mot de passe").fill(password)
    phone.get_by_role("button", name="Se connecter").click()

    phone.wait_for_url(f"{lsu_server}/")
    expect(phone.get_by_text("Bonjour Anaïs Lefèvre")).to_be_visible()
    expect(phone.get_by_role("heading", name="Noé Lefèvre")).to_be_visible()
    expect(phone.get_by_role("heading", name="Inès Lefèvre")).to_be_visible()


def test_provisional_parent_is_held_on_the_activation_page(app, live_server, lsu_server, phone):
    account, password = Factory(app).account(status="provisional")
    phone.goto(f"{lsu_server}/login")
    phone.get_by_label("Identifiant").fill(account.identifier)
    phone.get_by_label("Mot de passe").fill(password)
    phone.get_by_role("button", name="Se connecter").click()

    phone.wait_for_url(f"{live_server.url}/activation")
    expect(phone.locator("h1")).to_have_text("Activez votre compte")
    phone.goto(f"{live_server.url}/")  # the portal, or any page: the gate holds the parent
    assert phone.url == f"{live_server.url}/activation"
