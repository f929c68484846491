"""In Chromium, on a phone: a parent signs in once at the provider, opens the LSU for the second
child from the portal, comes back, opens the canteen (pairwise, limited to the école) without
typing a password again, then signs out on the LSU: the portal and the canteen are signed out
too (back-channel logout), their next page asks to sign in."""

from __future__ import annotations

import time
from datetime import date

from playwright.sync_api import expect

from idp.provisioning.accounts import ChildSpec
from tests.conftest import CANTEEN_SCHOOL
from tests.factories import CHILDREN, Factory

COLLEGE = ChildSpec("Léo", "Lefèvre", date(2013, 5, 21), "0759876K", "6e", "Collège Victor-Hugo")
SIGN_IN_HEADING = "Connexion à votre compte parent"


def section(page, child_name: str):
    return page.locator("section.child").filter(has=page.get_by_role("heading", name=child_name))


def test_portal_lsu_canteen_and_one_sign_out(app, live_server, lsu_server, canteen_server, phone):
    account, password = Factory(app).account(children=[*CHILDREN, COLLEGE])
    assert CHILDREN[1].school_uai == CANTEEN_SCHOOL != COLLEGE.school_uai
    sign_in_pages = []
    phone.on(
        "framenavigated",
        lambda frame: frame.url.startswith(f"{live_server.url}/login") and sign_in_pages.append(1),
    )

    phone.goto(live_server.url)
    phone.get_by_label("Identifiant").fill(account.identifier)
    phone.get_by_label("Mot de passe").fill(password)
    phone.get_by_role("button", name="Se connecter").click()
    phone.wait_for_url(f"{live_server.url}/")
    expect(phone.locator("h1")).to_have_text("Bonjour Anaïs Lefèvre")
    expect(section(phone, "Léo Lefèvre").locator("a.tile")).to_have_count(1)  # LSU only
    phone.set_viewport_size(
        {"width": 320, "height": 640}
    )  # the smallest phones: no sideways scroll
    assert phone.evaluate("document.documentElement.scrollWidth") <= 320
    phone.set_viewport_size({"width": 390, "height": 844})

    section(phone, "Inès Lefèvre").get_by_role("link", name="Livret scolaire unique").click()
    phone.wait_for_url(f"{lsu_server}/enfant/*")
    expect(phone.locator("h1")).to_have_text("Livret de Inès Lefèvre")
    expect(phone.get_by_role("heading", name="1er trimestre")).to_be_visible()

    phone.go_back()
    phone.wait_for_url(f"{live_server.url}/")
    section(phone, "Noé Lefèvre").get_by_role("link", name="Cantine scolaire").click()
    phone.wait_for_url(f"{canteen_server}/enfant/*")
    expect(phone.locator("h1")).to_have_text("Compte cantine de Noé Lefèvre")
    canteen_page = phone.url
    assert len(sign_in_pages) == 1  # the password was typed once, at the start

    phone.goto(f"{lsu_server}/")
    phone.get_by_role("button", name="Se déconnecter").click()
    phone.wait_for_url(f"{lsu_server}/")  # no confirmation: a valid hint, a registered URI
    expect(phone.get_by_text("Se connecter avec mon compte parent")).to_be_visible()

    phone.goto(live_server.url)
    expect(phone.locator("h1")).to_have_text(SIGN_IN_HEADING)
    deadline = time.monotonic() + 10  # the logout token travels off the request
    while True:
        phone.goto(canteen_page)
        if phone.url.startswith(f"{live_server.url}/login") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect(phone.locator("h1")).to_have_text(SIGN_IN_HEADING)
