"""The console's pages: French first and English too, one heading each, every control labelled,
and nothing kept by browsers or proxies."""

from __future__ import annotations

import re

from tests.console.helpers import make_staff, sign_in

PAGES = ["/ecole/familles", "/ecole/chiffres", "/ecole/equipe", "/ecole/import"]


def controls_without_label(page: str) -> list[str]:
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    controls = re.findall(r"<(?:input|select|textarea)\b([^>]*)>", page)
    missing = []
    for attributes in controls:
        if 'type="hidden"' in attributes:
            continue
        found = re.search(r'id="([^"]+)"', attributes)
        if not found or found.group(1) not in labelled:
            missing.append(attributes)
    return missing


def test_console_pages_have_one_heading_and_labels(app, browser, factory):
    account, _ = factory.account()
    sign_in(browser, make_staff())
    for url in [*PAGES, f"/ecole/comptes/{account.identifier}"]:
        answer = browser.get(url)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200, url
        assert page.count("<h1") == 1, url
        assert controls_without_label(page) == [], url
        assert answer.headers["Cache-Control"] == "no-store"
        assert '<html lang="fr">' in page


def test_the_sign_in_page_speaks_english_when_asked(app, browser):
    page = browser.get("/ecole", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign in to the school console" in page
    assert controls_without_label(page) == []
    french = browser.get("/ecole").get_data(as_text=True)
    assert "Connexion à la console de l'école" in french
