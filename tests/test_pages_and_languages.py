"""The footer pages, the language switch, and the English catalogue kept complete.

The catalogue check extracts every string of the code and templates as `make messages` does and
fails on any that has no English, is fuzzy, or whose placeholders differ: an untranslated
string would show French in the middle of an English page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from idp import ROOT, jobs
from idp.extensions import db
from tests.mailbox import text_of
from tests.oidc_client import OIDCClient, csrf_token

PO = Path(ROOT, "idp", "translations", "en", "LC_MESSAGES", "messages.po")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def extracted_ids() -> set[str]:
    method_map = [("idp/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {**KEYWORDS, "_plural": (1, 2), "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_string_of_the_code_and_templates_has_its_english():
    with PO.open("rb") as file:
        catalogue = read_po(file)
    translations = {
        (m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalogue if m.id and m.id != ""
    }
    missing = sorted(i for i in extracted_ids() if i not in translations)
    assert missing == [], f"not in the English catalogue (make messages): {missing}"
    untranslated, fuzzy, mismatched = [], [], []
    for key, entry in translations.items():
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            untranslated.append(key)
        if entry.fuzzy:
            fuzzy.append(key)
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != set(PLACEHOLDER.findall(key)):
                mismatched.append(key)
    assert untranslated == [], f"no English for: {untranslated}"
    assert fuzzy == [] and mismatched == [], (fuzzy, mismatched)


@pytest.mark.parametrize(
    ("path", "french", "english"),
    [
        ("/aide", "Première connexion", "First sign-in"),
        ("/accessibilite", "partiellement conforme", "partially compliant"),
        ("/donnees-personnelles", "Données personnelles", "Personal data"),
        ("/mentions-legales", "Mentions légales", "Legal notice"),
    ],
)
def test_footer_pages_answer_in_both_languages(browser, path, french, english):
    page = browser.get(path)
    assert page.status_code == 200 and french in page.get_data(as_text=True)
    assert f'href="{path}"' in page.get_data(as_text=True)  # linked from every footer
    browser.get("/langue/en")
    assert english in browser.get(path).get_data(as_text=True)


def test_the_language_switch_keeps_the_page_and_is_remembered(browser, factory):
    account, password = factory.account(status="provisional", email=None)
    login = browser.get("/login")
    browser.post(
        "/login",
        data={
            "identifier": account.identifier,
            "password": password,
            "csrf_token": csrf_token(login.get_data(as_text=True)),
        },
    )
    form = browser.get("/activation").get_data(as_text=True)
    assert '<html lang="fr">' in form
    assert 'href="/langue/en?next=/activation"' in form  # the switch, in the header

    switched = browser.get("/langue/en?next=/activation")

    assert switched.status_code == 302 and switched.location.endswith("/activation")
    assert "idp_lang=en" in switched.headers["Set-Cookie"]
    assert "Max-Age=31536000" in switched.headers["Set-Cookie"]
    again = browser.get("/activation").get_data(as_text=True)
    assert '<html lang="en">' in again and "Activate your account" in again
    assert 'href="/langue/fr?next=/activation"' in again
    # Remembered over the browser's own language and a teleservice's ui_locales.
    assert '<html lang="en">' in browser.get("/aide", headers={"Accept-Language": "fr"}).text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_the_language_switch_never_sends_to_another_site(browser, target):
    response = browser.get("/langue/en", query_string={"next": target})
    assert response.status_code == 302 and response.location == "/"


def test_an_unknown_language_changes_nothing(browser):
    response = browser.get("/langue/de?next=/aide")
    assert response.status_code == 302 and "Set-Cookie" not in response.headers


def test_mails_are_written_in_the_language_the_parent_chose(app, factory, mailbox):
    """Switched to English while signed in: a reset asked later from a French browser (another
    device, never switched) still arrives in English, the account's language."""
    account, password = factory.account(email="anais@example.org")
    parent = app.test_client()
    OIDCClient(parent, "", None, "").sign_in(account.identifier, password)
    parent.get("/langue/en?next=/compte")
    db.session.refresh(account)
    assert account.locale == "en"

    elsewhere = app.test_client()  # French: no choice made, a French browser
    page = elsewhere.get("/recovery/password", headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in page.text
    asked = elsewhere.post(
        "/recovery/password",
        data={"identifier": account.identifier, "csrf_token": csrf_token(page.text)},
        headers={"Accept-Language": "fr"},
    )
    asked.close()  # as a server does once the page is sent: the mail job starts
    assert jobs.wait_for_jobs()

    mail = mailbox.last_to("anais@example.org")
    assert mail["Subject"] == "Choose a new password"
    assert "password" in text_of(mail) and "mot de passe" not in text_of(mail)


def test_signing_in_remembers_the_language_of_the_pages(app, factory, mailbox):
    account, password = factory.account(email="anais@example.org")
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.8"  # an English phone
    assert (
        OIDCClient(browser, "", None, "").sign_in(account.identifier, password).status_code == 302
    )
    db.session.refresh(account)
    assert account.locale == "en"
