"""Every page of every flow, in real Chromium, in French and in English: axe-core finds no WCAG
2.1 A/AA violation, nothing scrolls sideways at 320 px or 1280 px, and the main pages are
photographed into docs/screenshots/ (shown in the README). Also: an activation done with the
keyboard alone, and the password toggle under the CSP.

axe-core comes from its npm package (`make axe` installs it in .cache/axe); it is evaluated in
the page through the DevTools protocol, which the page's CSP does not govern.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AXE_RUN
from tests.factories import Factory
from tests.mailbox import links_in, wait_for_outbox

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDTHS = (320, 1280)
PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "Trousse-Verte-88"
OTHER_PASSWORD = "Cahier-Rouge-2027"
EMAIL = "anais.lefevre@example.org"
# A long address, as some parents have: it must wrap, never push the page sideways at 320 px.
LONG_EMAIL = "anais.lefevre-de-la-tour-du-pin.parent@ecole-elementaire-jules-ferry.example.org"

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Tap targets (WCAG 2.5.5): every control and every stand-alone link at least 44 px tall; links
# inside a sentence are the criterion's inline exception.
TARGETS = """() => [...document.querySelectorAll(
    "button:not([hidden]), input:not([type=hidden]), select, summary, .links a, .back a, " +
    "header a:not(.skip), footer a, .error-summary a, .actions a")]
  .filter(e => e.offsetParent !== null)
  .filter(e => e.getBoundingClientRect().height < 44)
  .map(e => `${e.tagName} ${e.id || e.textContent.trim()}: ${e.getBoundingClientRect().height}`)
"""


class Tour:
    """One browser profile in one language; ``check`` runs the page checks where it stands."""

    def __init__(self, chromium, live_server, axe_source: str, lang: str) -> None:
        self.context = chromium.new_context(viewport=PHONE, locale="fr-FR")
        host = live_server.url.split("//")[1].split(":")[0]
        self.context.add_cookies([{"name": "idp_lang", "value": lang, "domain": host, "path": "/"}])
        self.page = self.context.new_page()
        self.url, self.axe, self.lang = live_server.url, axe_source, lang
        self.checked: list[str] = []

    def go(self, path: str, name: str, shot: str | None = None) -> None:
        self.page.goto(self.url + path)
        self.check(name, shot)

    def check(self, name: str, shot: str | None = None) -> None:
        page = self.page
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.lang") == self.lang, name
        if shot and self.lang == "fr":  # as a parent first sees it
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{shot}.png", full_page=True)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.evaluate(self.axe)
        assert page.evaluate(AXE_RUN) == [], f"{name} ({self.lang})"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            assert page.evaluate(OVERFLOW) <= 0, f"{name} ({self.lang}) scrolls sideways at {width}"
            assert page.evaluate(TARGETS) == [], f"{name} ({self.lang}) at {width}"
        page.set_viewport_size(PHONE)
        self.checked.append(name)

    def submit(self, fields: dict[str, str], button: str | None = None) -> None:
        for selector, value in fields.items():
            self.page.fill(selector, value)
        target = f"button:text-is('{button}')" if button else "main form button[type=submit]"
        self.page.locator(target).first.click()
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()


def public_pages(tour: Tour, account, mailbox) -> None:
    tour.go("/login", "login", shot="login")
    for _ in range(3):
        tour.submit({"#identifier": account.identifier, "#password": "pas-le-bon"})
    tour.check("login after 3 failures")
    tour.go("/recovery/identifier", "forgotten identifier")
    tour.submit({"#email": "pas-une-adresse"})
    tour.check("forgotten identifier, errors")
    tour.submit({"#email": EMAIL})
    tour.check("identifier sent")
    tour.go("/recovery/password", "forgotten password")
    tour.submit({"#identifier": account.identifier})
    tour.check("reset link sent")
    wait_for_outbox()  # the identifier reminder went to the same address first
    (link,) = links_in(mailbox.last_to(EMAIL))
    tour.page.goto(link)
    tour.check("new password")
    tour.submit({"#new_password": NEW_PASSWORD, "#new_password_confirm": "autre chose"})
    tour.check("new password, errors")
    tour.submit({"#new_password": NEW_PASSWORD, "#new_password_confirm": NEW_PASSWORD})
    tour.check("password changed")
    tour.page.goto(link)
    tour.check("used reset link")
    for path, name in [
        ("/aide", "help"),
        ("/accessibilite", "accessibility statement"),
        ("/donnees-personnelles", "personal data"),
        ("/mentions-legales", "legal notice"),
        ("/authorize?client_id=inconnu&response_type=code", "teleservice's bad request"),
    ]:
        tour.go(path, name)
    tour.go("/pas-de-page-ici", "not found", shot="error")


def activation_pages(tour: Tour, account, password: str, mailbox) -> None:
    tour.go("/login", "login (letter)")
    tour.submit({"#identifier": account.identifier, "#password": password})
    tour.check("activation form")
    tour.submit({"#email": "anais@", "#child_birthdate": "31/02/2016"})
    tour.check("activation form, errors", shot="activation-errors")
    tour.go("/activation/not-guardian", "not the guardian: confirm")
    tour.go("/activation", "activation form again")
    tour.submit(
        {
            "#email": LONG_EMAIL,
            "#new_password": NEW_PASSWORD,
            "#new_password_confirm": NEW_PASSWORD,
            "#child_birthdate": "14022016",
        }
    )
    tour.check("check your mail", shot="mail-sent")
    (first,) = links_in(mailbox.last_to(LONG_EMAIL))
    tour.page.locator(
        "button:text-is('Renvoyer le message'), button:text-is('Send the message again')"
    ).click()
    tour.check("check your mail, resent")
    tour.page.goto(first)
    tour.check("replaced activation link")
    wait_for_outbox()  # the resent mail, not the first one
    tour.page.goto(links_in(mailbox.last_to(LONG_EMAIL))[-1])
    tour.check("activation link: one button to press")
    tour.page.locator("[data-action=confirm-link]").click()
    tour.check("account activated")


def account_pages(tour: Tour) -> None:
    tour.go("/", "portal", shot="portal")
    tour.go("/compte", "manage my account", shot="account")
    tour.go("/compte/mot-de-passe", "change password")
    tour.submit(
        {"#current_password": "faux", "#new_password": "court", "#new_password_confirm": "x"}
    )
    tour.check("change password, errors")
    tour.go("/compte/adresse", "change address")
    tour.submit({"#email": "pas-une-adresse"})
    tour.check("change address, errors")
    tour.go("/logout", "sign out: confirm")
    tour.submit({})
    tour.check("signed out")


def locked_pages(tour: Tour, factory: Factory) -> None:
    """The end of two activations: reported as not the guardian; locked by wrong dates."""
    for ending in ("reported", "locked"):
        account, password = factory.account(status="provisional", email=None)
        tour.go("/login", "login (letter)")
        tour.submit({"#identifier": account.identifier, "#password": password})
        if ending == "reported":
            tour.page.goto(tour.url + "/activation/not-guardian")
            tour.page.locator("form button[type=submit]").first.click()
        else:
            for _ in range(5):
                tour.submit({"#child_birthdate": "01/01/2015"})
        tour.check(ending)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_passes_axe_and_fits_320_and_1280_pixels(
    app, live_server, chromium, axe_source, mailbox, lang
):
    factory = Factory(app)
    tour = Tour(chromium, live_server, axe_source, lang)
    try:
        active, _ = factory.account(email=EMAIL)
        public_pages(tour, active, mailbox)
        letter, password = factory.account(status="provisional", email=None)
        activation_pages(tour, letter, password, mailbox)
        account_pages(tour)
        locked_pages(tour, factory)
    finally:
        tour.close()
    assert len(tour.checked) >= 35


def test_activation_with_the_keyboard_alone(app, live_server, chromium, mailbox):
    account, password = Factory(app).account(status="provisional", email=None)
    context = chromium.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    keyboard = page.keyboard

    def tab_to(target: str) -> None:
        """Tab until the focus is on the element of that id, or the link or button so named."""
        for _ in range(40):
            keyboard.press("Tab")
            focused = page.evaluate("[document.activeElement.id, document.activeElement.innerText]")
            if target in (focused[0], (focused[1] or "").strip()):
                return
        raise AssertionError(f"Tab never reaches {target}")

    try:
        page.goto(f"{live_server.url}/login")
        for element_id, text in (("identifier", account.identifier), ("password", password)):
            tab_to(element_id)
            keyboard.type(text)
        keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/activation")
        for element_id, text in (
            ("email", EMAIL),
            ("new_password", NEW_PASSWORD),
            ("new_password_confirm", NEW_PASSWORD),
            ("child_birthdate", "14/02/2016"),
        ):
            tab_to(element_id)
            keyboard.type(text)
        # The password toggle works from the keyboard too (a static script, under the CSP).
        page.focus("#new_password")
        keyboard.press("Tab")
        keyboard.press("Enter")
        expect(page.locator("#new_password")).to_have_attribute("type", "text")
        keyboard.press("Enter")
        expect(page.locator("#new_password")).to_have_attribute("type", "password")
        page.focus("#child_birthdate")
        keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Consultez votre messagerie")
        (link,) = links_in(mailbox.last_to(EMAIL))
        page.goto(link)  # the link's page asks for one press of its button (mail scanners)
        tab_to("Activer mon compte")
        keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Votre compte est activé")
        tab_to("Accéder à mon espace")
        keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/")
        expect(page.locator("h1")).to_contain_text("Bonjour")
    finally:
        context.close()
