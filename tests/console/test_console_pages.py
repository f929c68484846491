"""The console's pages: French first and English too, one heading each, every control labelled,
and nothing kept by browsers or proxies."""

from __future__ import annotations

import re
from datetime import timedelta

from idp import retention
from idp.console import downloads
from idp.extensions import db
from idp.models import StaffDownload
from idp.models.base import utcnow
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


def test_purge_removes_expired_files_and_old_staff_sessions(app, browser):
    staff = make_staff()
    sign_in(browser, staff)
    kept = downloads.store(staff, "courrier.pdf", "application/pdf", b"%PDF")
    gone = downloads.store(staff, "ancien.pdf", "application/pdf", b"%PDF")
    gone.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    counts = retention.purge()
    assert (counts["staff_downloads"], counts["staff_sessions"]) == (1, 0)
    assert db.session.get(StaffDownload, kept.id) is not None
    assert browser.get("/ecole/familles").status_code == 200  # still signed in

    later = utcnow() + timedelta(seconds=app.config["PURGE_GRACE"] + 28800 + 1)
    assert retention.purge(now=later)["staff_sessions"] == 2  # the password step's, and this
    assert browser.get("/ecole/familles").status_code == 302
