"""The letters a school prints after an import: one A4 page per new parent, read back with pypdf.

Each page must let a parent sign in and activate with nothing else in hand: the school, the
parent's and children's names as the school writes them (accents, œ, æ, apostrophes, Vietnamese),
the provider's address, the identifier, the provisional password in a monospaced font and its
expiry, the steps, and what to do when stuck.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from flask import Flask
from pypdf import PdfReader

from idp.provisioning import letters
from idp.provisioning.export import read_export
from idp.provisioning.families import ImportResult, import_families

SAMPLE = Path(__file__).resolve().parent / "data" / "export-ecole-exemple.csv"
STEPS = (
    "Pour activer votre compte",
    "connectez-vous avec votre identifiant et ce mot de passe provisoire",
    "adresse électronique que vous consultez",
    "choisissez un nouveau mot de passe",
    "confirmez la date de naissance de votre enfant",
    "Ouvrez le lien du message de confirmation",
)
STUCK = ("En cas de difficulté", "« Identifiant oublié »", "« Mot de passe oublié »", "directeur")


def plain(text: str) -> str:
    """Extracted text as a reader sees it: NFC, ordinary spaces, one line."""
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    return " ".join(text.split())


def import_with_letters() -> tuple[ImportResult, list[str]]:
    """Import the sample; the result and the text of each page of its letters."""
    printed: dict[str, bytes] = {}

    def deliver(result: ImportResult) -> None:
        printed["pdf"] = letters.render(result.letters())

    result = import_families(read_export(SAMPLE.read_bytes(), SAMPLE.name), deliver)
    reader = PdfReader(io.BytesIO(printed["pdf"]))
    return result, [plain(page.extract_text()) for page in reader.pages]


def test_each_new_parent_gets_a_page_with_all_it_takes_to_sign_in(app: Flask):
    result, pages = import_with_letters()

    assert len(pages) == len(result.created) == 8
    for credential, page in zip(result.created, pages, strict=True):
        assert "École élémentaire Jules-Ferry" in page and "UAI 0751234J" in page
        assert f"{credential.given_name} {credential.family_name}" in page
        assert f"Identifiant : {credential.identifier}" in page
        assert credential.password in page
        assert f"Valable jusqu'au {credential.expires_at:%d/%m/%Y}" in page
        assert app.config["ISSUER"] in page
        for words in STEPS + STUCK:
            assert words in page, words


def test_every_name_renders_as_the_school_wrote_it(app: Flask):
    result, pages = import_with_letters()

    by_parent = {
        credential.parent_ref: page for credential, page in zip(result.created, pages, strict=True)
    }
    expected = {
        "R0001": ["Anaïs Lefèvre", "Noé Lefèvre (CE2), Inès Lefèvre (CP)"],
        "R0002": ["Thomas Lefèvre", "Noé Lefèvre (CE2), Inès Lefèvre (CP)"],
        "R0003": ["Aïssatou N'Diaye", "Moussa N'Diaye-Martin (CM1)"],
        "R0004": ["Françoise Cœurdevey", "Léa-Maëlle Cœurdevey (CM2)"],
        "R0005": ["João Da Silva", "Lætitia Da Silva (CE1)"],
        "R0006": ["Thị Lan Nguyễn", "Minh Nguyen (CE2)"],
        "R0007": ["Marie Dupont", "Zoé Durand (CE2)"],
        "R0008": ["Seán O'Brien", "Aoife O'Brien (GS)"],
    }
    for parent_ref, (parent, children) in expected.items():
        page = by_parent[parent_ref]
        assert f"À l'attention de {parent}" in page
        assert f"Responsable légal de : {children}" in page


def test_the_password_is_printed_in_the_monospaced_font(app: Flask):
    printed: dict[str, bytes] = {}

    def deliver(result: ImportResult) -> None:
        printed["pdf"] = letters.render(result.letters())

    result = import_families(read_export(SAMPLE.read_bytes(), SAMPLE.name), deliver)
    page = PdfReader(io.BytesIO(printed["pdf"])).pages[0]
    fonts: dict[str, str] = {}

    def visit(text, cm, tm, font, size):
        if text.strip() and font is not None:
            fonts[text.strip()] = str(font["/BaseFont"])

    page.extract_text(visitor_text=visit)
    assert "DejaVuSansMono" in fonts[result.created[0].password]
    assert "DejaVuSansMono" in fonts[result.created[0].identifier]
    assert (
        "Mono" not in fonts["Votre compte parent"] and "DejaVuSans" in fonts["Votre compte parent"]
    )


def test_a_batch_without_new_parents_prints_one_page_saying_so(app: Flask):
    reader = PdfReader(io.BytesIO(letters.render([])))

    assert len(reader.pages) == 1
    assert "Aucun nouveau compte" in plain(reader.pages[0].extract_text())


def test_the_fonts_ship_with_the_package_with_their_licence():
    package = Path(letters.__file__).parent
    assert package / "fonts" == letters.FONTS
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"):
        assert (letters.FONTS / name).stat().st_size > 100_000
    assert "Bitstream Vera" in (letters.FONTS / "LICENSE").read_text()
