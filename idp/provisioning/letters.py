"""The paper letter a family receives: one A4 page per parent, ready to print (fpdf2).

The fonts ship with the package (DejaVu: every French and Vietnamese letter, and a monospaced
face in which no two characters of a password look alike), so a fresh machine needs nothing.
One document holds the whole batch and loads the fonts once. fpdf2's `multi_cell` costs about
80 ms a page; the fixed paragraphs are therefore wrapped once per document and every line is
placed with `text()`, which keeps a page near two milliseconds. Lines are drawn in reading order
(drawing them grouped by font would save a tenth, but a screen reader or a copy-and-paste would
then read the page out of order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from idp.provisioning import ProgressCallback

FONTS = Path(__file__).resolve().parent / "fonts"
SANS, MONO = "DejaVuSans", "DejaVuSansMono"
LEFT, TOP, WIDTH = 20.0, 20.0, 170.0  # millimetres on A4 (210 × 297)
PT = 0.3528  # millimetres in a typographic point
NO_BREAK = ((" :", "\u00a0:"), (" ;", "\u00a0;"), (" »", "\u00a0»"), ("« ", "«\u00a0"))


@dataclass(frozen=True)
class Letter:
    """What one parent's page says; the password is printed, never stored."""

    parent_name: str
    identifier: str
    password: str = field(repr=False)
    expires_at: datetime
    children: list[str]  # "Noé Lefèvre (CE2)"
    schools: list[tuple[str, str]]  # (UAI, name)


def short_date(moment: date | datetime) -> str:
    return moment.strftime("%d/%m/%Y")


def render(
    letters: list[Letter], progress: ProgressCallback | None = None, locale: str = "fr"
) -> bytes:
    """The PDF of the batch, one page per letter (a page saying so when there is none).

    In French unless told otherwise: the letter goes home in the school's language, whatever
    the language of whoever prints it (and a command line has no browser to ask).
    """
    with force_locale(locale):
        document = _Document()
        texts = _texts(document)
        for done, letter in enumerate(letters, start=1):
            _page(document, texts, letter)
            if progress and (done % 100 == 0 or done == len(letters)):
                progress("writing letters", done, len(letters))
        if not letters:
            document.new_page()
            document.line(_("Aucun nouveau compte : aucun courrier à imprimer."), size=12)
        return bytes(document.pdf.output())


class _Document:
    """One PDF for the whole batch, written line by line with `text()` (fast) only."""

    def __init__(self) -> None:
        # Imported here: fpdf2 costs ~20 MB per process, which no web worker needs.
        from fpdf import FPDF

        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(LEFT, TOP, LEFT)
        pdf.add_font(SANS, "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font(SANS, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.add_font(MONO, "", str(FONTS / "DejaVuSansMono.ttf"))
        pdf.set_title(_("Compte parent : courriers de première connexion"))
        pdf.set_creator("idp")
        self.pdf = pdf
        self.font: tuple[str, str, float] | None = None
        self.y = TOP

    def new_page(self) -> None:
        self.pdf.add_page()
        self.y = TOP

    def set_font(self, family: str, style: str, size: float) -> None:
        if self.font != (family, style, size):  # fpdf2's set_font costs even when unchanged
            self.pdf.set_font(family, style, size)
            self.font = (family, style, size)

    def put(self, text: str, size: float = 10.5, x: float = LEFT, style: str = "") -> None:
        """Write on the current line without moving down; style "B" bold, "mono" monospaced."""
        self.set_font(MONO if style == "mono" else SANS, "B" if style == "B" else "", size)
        self.pdf.text(x, self.y + size * PT, text)

    def line(self, text: str, size: float = 10.5, x: float = LEFT, style: str = "") -> None:
        self.put(text, size, x, style)
        self.y += size * PT * 1.45

    def lines(self, texts: list[str], size: float = 10.5, x: float = LEFT) -> None:
        for text in texts:
            self.line(text, size, x)

    def gap(self, millimetres: float = 3.0) -> None:
        self.y += millimetres

    def wrap(self, text: str, width: float, size: float = 10.5) -> list[str]:
        """Greedy word wrap at `width` mm in the sans font at `size` points."""
        self.set_font(SANS, "", size)
        text = french_spacing(text)
        if self.pdf.get_string_width(text) <= width:
            return [text]
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and self.pdf.get_string_width(candidate) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        return [*lines, current]


def french_spacing(text: str) -> str:
    """No line may start with `:`, `;` or `»`, nor end with `«`: non-breaking spaces there."""
    for before, after in NO_BREAK:
        text = text.replace(before, after)
    return text


def _texts(document: _Document) -> dict[str, list[str] | str]:
    """The words every page shares, translated and wrapped once for the whole batch."""
    issuer = current_app.config["ISSUER"]
    steps = [
        _(
            "Ouvrez l'adresse %(url)s (ou le bouton « Se connecter avec mon compte parent » "
            "d'un service en ligne de l'école) et connectez-vous avec votre identifiant et ce "
            "mot de passe provisoire.",
            url=issuer,
        ),
        _(
            "Indiquez une adresse électronique que vous consultez, choisissez un nouveau mot de "
            "passe (au moins 12 caractères) et confirmez la date de naissance de votre enfant."
        ),
        _(
            "Ouvrez le lien du message de confirmation envoyé à cette adresse : votre compte "
            "est actif. Ce courrier ne sert plus ; vous pouvez le détruire."
        ),
    ]
    stuck = [
        _(
            "Identifiant ou mot de passe oublié, une fois le compte activé : utilisez les liens "
            "« Identifiant oublié » et « Mot de passe oublié » de la page de connexion."
        ),
        _(
            "Mot de passe provisoire expiré, compte bloqué, courrier perdu ou toute autre "
            "difficulté : adressez-vous au directeur ou à la directrice de l'école, qui vous "
            "remettra un nouveau courrier."
        ),
    ]
    return {
        "dated": _("Le %(date)s", date=short_date(date.today())),
        "title": _("Votre compte parent"),
        # Templates filled on each page (gettext without arguments leaves %(…)s as it is).
        "to": _("À l'attention de %(name)s"),
        "children": _("Responsable légal de : %(names)s"),
        "expiry": _("Valable jusqu'au %(date)s."),
        "intro": document.wrap(
            _(
                "L'école vous ouvre un compte parent : il donne accès aux services en ligne de "
                "la scolarité de vos enfants (livret scolaire…). Voici vos codes de première "
                "connexion, personnels et confidentiels."
            ),
            WIDTH,
        ),
        "address": french_spacing(_("Adresse :")),
        "issuer": issuer,
        "identifier": french_spacing(_("Identifiant :")),
        "password": french_spacing(_("Mot de passe provisoire :")),
        "case": _("Respectez les majuscules et les minuscules."),
        "steps_title": _("Pour activer votre compte"),
        "steps": [document.wrap(step, WIDTH - 7) for step in steps],
        "stuck_title": _("En cas de difficulté"),
        "stuck": [document.wrap(item, WIDTH - 7) for item in stuck],
        "footer": document.wrap(
            _(
                "Ne communiquez jamais votre mot de passe : ni l'école ni aucun service ne vous "
                "le demandera, par téléphone ou par courriel."
            ),
            WIDTH,
            size=9,
        ),
    }


def _page(page: _Document, texts: dict, letter: Letter) -> None:
    page.new_page()
    for uai, name in letter.schools:
        page.line(name, size=12, style="B")
        page.line(f"UAI {uai}", size=9)
    page.gap(2)
    page.line(texts["dated"], size=9)
    page.gap(6)
    page.line(texts["title"], size=16, style="B")
    page.gap(2)
    page.line(texts["to"] % {"name": letter.parent_name}, size=11, style="B")
    page.lines(page.wrap(texts["children"] % {"names": ", ".join(letter.children)}, WIDTH))
    page.gap(3)
    page.lines(texts["intro"])
    page.gap(4)
    _credentials_box(page, texts, letter)
    page.line(texts["steps_title"], size=12, style="B")
    page.gap(1)
    _items(page, texts["steps"], numbered=True)
    page.gap(3)
    page.line(texts["stuck_title"], size=12, style="B")
    page.gap(1)
    _items(page, texts["stuck"], numbered=False)
    page.y = 297 - TOP - 4.5 * len(texts["footer"])
    page.lines(texts["footer"], size=9)


def _credentials_box(page: _Document, texts: dict, letter: Letter) -> None:
    top = page.y
    label_x, value_x = LEFT + 5, LEFT + 62
    page.gap(4)
    for label, value, size in (
        (texts["address"], texts["issuer"], 11),
        (texts["identifier"], letter.identifier, 14),
        (texts["password"], letter.password, 20),
    ):
        page.put(label, size=11, x=label_x)
        page.line(value, size, x=value_x, style="mono")
        page.gap(1.5)
    page.line(texts["expiry"] % {"date": short_date(letter.expires_at)}, x=value_x, style="B")
    page.line(texts["case"], size=9, x=value_x)
    page.gap(3)
    page.pdf.set_line_width(0.4)
    page.pdf.rect(LEFT, top, WIDTH, page.y - top)
    page.gap(7)


def _items(page: _Document, items: list[list[str]], numbered: bool) -> None:
    for index, lines in enumerate(items, start=1):
        page.put(f"{index}." if numbered else "–", x=LEFT + 1)
        page.lines(lines, x=LEFT + 7)
        page.gap(1.5)
