"""In Chromium, on a tablet, a school director enrols from the mailed link (the secret read from
the page, codes computed with pyotp), signs in, finds a family and resets it, downloads the new
letter, unlocks another family, resolves a "not the legal guardian" report, and imports the
school's export: a file with one bad row shows the plan's errors and applies nothing; the fixed
file is applied and its letters downloaded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import func, select

from idp.console import staff as staff_service
from idp.extensions import db
from idp.models import Account, AuditEvent, Staff
from tests.browser.conftest import axe_violations
from tests.console.helpers import SCHOOL, STAFF_PASSWORD, next_code
from tests.factories import Factory
from tests.mailbox import links_in

EMAIL = "claire.dubois@ecole.example"
HEADER = (
    "parent_ref;parent_family_name;parent_given_name;child_ref;child_family_name;"
    "child_given_name;child_birthdate;school_uai;school_name;class_level"
)
GOOD = f"P200;Moreau;Julie;C200;Moreau;Lina;12/03/2017;{SCHOOL};École Jules-Ferry;CE1"
BAD = f"P201;Petit;Karim;C201;Petit;Adam;31/02/2018;{SCHOOL};École Jules-Ferry;CP"
FIXED = BAD.replace("31/02/2018", "28/02/2018")
SCREENSHOTS = "/tmp/console-{}.png"  # noqa: S108 (for a person to look at)


@pytest.fixture
def tablet(chromium) -> Iterator:
    """A fresh browser profile the size of a tablet held upright, in French."""
    context = chromium.new_context(
        viewport={"width": 820, "height": 1180}, locale="fr-FR", accept_downloads=True
    )
    yield context.new_page()
    context.close()


def families(factory: Factory) -> dict[str, Account]:
    helped, _ = factory.account(given_name="Anaïs")
    locked, _ = factory.account(given_name="Marc", email="marc@example.org")
    locked.status, locked.locked_reason = "locked", "too_many_login_failures"
    reported, _ = factory.account(status="provisional", email=None, given_name="Sophie")
    reported.status, reported.locked_reason = "locked", "reported_not_guardian"
    db.session.commit()
    return {"helped": helped, "locked": locked, "reported": reported}


def enrol(tablet, link: str) -> Staff:
    tablet.goto(link)
    expect(tablet.locator("h1")).to_have_text("Activer votre accès à la console")
    tablet.get_by_label("Nouveau mot de passe", exact=True).fill(STAFF_PASSWORD)
    tablet.get_by_label("Confirmez le nouveau mot de passe").fill(STAFF_PASSWORD)
    tablet.get_by_role("button", name="Continuer").click()
    expect(tablet.locator("h1")).to_have_text("Configurez votre application d'authentification")
    expect(tablet.locator("figure.qr svg")).to_be_visible()
    secret = tablet.locator("#totp-secret").inner_text().replace(" ", "")
    tablet.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    tablet.get_by_role("button", name="Vérifier le code").click()
    expect(tablet.locator("h1")).to_have_text("Vos codes de secours")
    expect(tablet.locator("#recovery-codes li")).to_have_count(10)
    tablet.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(tablet.locator("h1")).to_have_text("Les familles de mon école")
    return db.session.scalar(select(Staff).filter_by(email=EMAIL))


def sign_in(tablet, base: str, staff: Staff) -> None:
    tablet.goto(f"{base}/ecole")
    tablet.get_by_label("Adresse électronique").fill(EMAIL)
    tablet.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    tablet.get_by_role("button", name="Continuer").click()
    tablet.get_by_label("Code à 6 chiffres").fill(next_code(staff))
    tablet.get_by_role("button", name="Se connecter").click()
    expect(tablet.locator("h1")).to_have_text("Les familles de mon école")


def open_family(tablet, account: Account) -> None:
    tablet.get_by_role("navigation").get_by_role("link", name="Familles").click()
    tablet.get_by_label("Rechercher").fill(account.identifier)
    tablet.get_by_role("button", name="Filtrer").click()
    tablet.get_by_role("link", name=account.name).click()
    expect(tablet.locator("h1")).to_have_text(account.name)


def reset_and_download(tablet, account: Account, tmp_path: Path) -> str:
    tablet.get_by_role("link", name="Réinitialiser et imprimer un nouveau courrier").click()
    tablet.get_by_role("button", name="Réinitialiser").click()
    expect(tablet.locator('[data-message-id="console.reset_done"]')).to_be_visible()
    with tablet.expect_download() as download:
        tablet.get_by_role("link", name="Télécharger le nouveau courrier (PDF)").click()
    path = tmp_path / "courrier.pdf"
    download.value.save_as(path)
    return PdfReader(path).pages[0].extract_text()


def upload(tablet, tmp_path: Path, rows: list[str]) -> None:
    tablet.get_by_role("navigation").get_by_role("link", name="Import").click()
    path = tmp_path / "export.csv"
    path.write_text("\n".join([HEADER, *rows]), encoding="utf-8")
    tablet.get_by_label("Fichier exporté (CSV)").set_input_files(path)
    tablet.get_by_role("button", name="Voir ce que l'import fera").click()


def test_a_director_helps_families_and_imports_in_chromium(
    app, live_server, mailbox, tablet, tmp_path, axe_source
):
    def accessible(name: str) -> None:  # the parents' pages' rule holds for the console too
        assert axe_violations(tablet, axe_source) == [], name

    factory = Factory(app)
    people = families(factory)
    with app.test_request_context(base_url=live_server.url):
        staff_service.add_staff(EMAIL, "Claire", "Dubois", [SCHOOL])
    (link,) = links_in(mailbox.last_to(EMAIL))

    staff = enrol(tablet, link)
    tablet.get_by_role("button", name="Se déconnecter").click()
    expect(tablet.locator("h1")).to_have_text("Connexion à la console de l'école")
    accessible("sign-in")
    sign_in(tablet, live_server.url, staff)
    accessible("families")

    tablet.screenshot(path=SCREENSHOTS.format("families"), full_page=True)

    # Find a family and reset it: a new letter, downloaded, names the account.
    open_family(tablet, people["helped"])
    accessible("a family's account")
    tablet.screenshot(path=SCREENSHOTS.format("account"), full_page=True)
    text = reset_and_download(tablet, people["helped"], tmp_path)
    assert people["helped"].identifier in text and "Anaïs" in text
    db.session.refresh(people["helped"])
    assert people["helped"].status == "provisional"

    # Unlock.
    open_family(tablet, people["locked"])
    expect(tablet.get_by_text("Trop de mots de passe erronés en 24 heures.")).to_be_visible()
    tablet.get_by_role("link", name="Débloquer le compte").click()
    accessible("unlock: confirm")
    tablet.get_by_role("button", name="Débloquer").click()
    expect(tablet.locator('[data-message-id="console.unlocked"]')).to_be_visible()

    # Resolve a report: the link was a mistake, the parent resumes the activation.
    open_family(tablet, people["reported"])
    tablet.get_by_role("link", name="Traiter le signalement").click()
    tablet.get_by_label(re.compile("^Erreur : le lien est rétabli")).check()
    tablet.get_by_role("button", name="Enregistrer la décision").click()
    expect(tablet.locator('[data-message-id="console.report_resolved"]')).to_be_visible()

    # Import: one bad row shows its line and applies nothing; the fixed file is applied.
    before = db.session.scalar(select(func.count()).select_from(Account))
    upload(tablet, tmp_path, [GOOD, BAD])
    expect(tablet.locator("#problems tbody tr")).to_have_count(1)
    accessible("import plan with a bad row")
    expect(tablet.locator("#problems tbody td").first).to_have_text("3")
    expect(tablet.get_by_role("button", name="Appliquer l'import")).to_have_count(0)
    assert db.session.scalar(select(func.count()).select_from(Account)) == before

    upload(tablet, tmp_path, [GOOD, FIXED])
    expect(tablet.locator('#plan [data-count="created"]')).to_have_text("2")
    tablet.screenshot(path=SCREENSHOTS.format("import-plan"), full_page=True)
    tablet.get_by_role("button", name="Appliquer l'import").click()
    expect(tablet.locator("h1")).to_have_text("Import fait")
    accessible("import done")
    with tablet.expect_download() as download:
        tablet.get_by_role("link", name="Télécharger les courriers (PDF)").click()
    download.value.save_as(tmp_path / "courriers.pdf")
    assert len(PdfReader(tmp_path / "courriers.pdf").pages) == 2
    assert db.session.scalar(select(func.count()).select_from(Account)) == before + 2

    db.session.refresh(people["locked"])
    db.session.refresh(people["reported"])
    assert people["locked"].status == "active" and people["reported"].status == "provisional"
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.event.like("console_%"))).all()
    assert {event.details["by_staff_email"] for event in audited} == {EMAIL}
    assert len(audited) == 4  # reset, unlock, report, import
