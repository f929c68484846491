"""The school's import (restricted to its schools, the plan shown before anything is written,
then the letters and credentials), its figures (a table and a server-rendered SVG chart) and
its team (a director adds and removes a deputy)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuditEvent, Staff
from tests.console.helpers import (
    OTHER_SCHOOL,
    SCHOOL,
    families_elsewhere,
    make_staff,
    message_ids,
    post_form,
    sign_in,
)
from tests.mailbox import links_in
from tests.oidc_client import csrf_token

HEADER = (
    "parent_ref;parent_family_name;parent_given_name;child_ref;child_family_name;"
    "child_given_name;child_birthdate;school_uai;school_name;class_level"
)
ROWS = [
    f"P100;Moreau;Julie;C100;Moreau;Lina;12/03/2017;{SCHOOL};École Jules-Ferry;CE1",
    f"P101;Petit;Karim;C101;Petit;Adam;2018-01-20;{SCHOOL};École Jules-Ferry;CP",
]


def upload(browser, text: str, name: str = "export.csv"):
    page = browser.get("/ecole/import").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "export": (io.BytesIO(text.encode()), name)}
    return browser.post("/ecole/import", data=data, content_type="multipart/form-data")


def accounts_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Account))


def test_a_bad_row_is_shown_with_its_line_and_nothing_is_imported(app, browser, factory):
    factory.account()
    sign_in(browser, make_staff())
    bad = ROWS[1].replace("2018-01-20", "31/02/2018")
    answer = upload(browser, "\n".join([HEADER, ROWS[0], bad]))
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert re.search(r"<tr><td>3</td><td>child_birthdate</td>", page)
    assert "Appliquer" not in page
    assert accounts_count() == 1


def test_a_row_of_another_school_is_an_error(app, browser, factory):
    factory.account()
    families_elsewhere(factory)
    sign_in(browser, make_staff())
    other = f"P102;Roux;Emma;C102;Roux;Tom;2017-06-01;{OTHER_SCHOOL};École Voltaire;CE1"
    answer = upload(browser, "\n".join([HEADER, ROWS[0], other]))
    assert answer.status_code == 422
    assert re.search(r"<tr><td>3</td><td>school_uai</td>", answer.get_data(as_text=True))
    assert accounts_count() == 2


def test_a_pupil_of_another_school_cannot_be_taken_by_its_ref(app, browser, factory):
    factory.account()
    elsewhere, _ = families_elsewhere(factory)
    ref = elsewhere.children[0].ref
    sign_in(browser, make_staff())
    row = f"P103;Roux;Emma;{ref};Martin;Léo;2017-05-02;{SCHOOL};École Jules-Ferry;CE1"
    answer = upload(browser, "\n".join([HEADER, row]))
    assert answer.status_code == 422
    assert re.search(r"<tr><td>2</td><td>child_ref</td>", answer.get_data(as_text=True))


def test_the_plan_is_shown_then_applied_with_letters_and_credentials(app, browser, factory):
    factory.account()
    staff = make_staff()
    sign_in(browser, staff)
    answer = upload(browser, "\n".join([HEADER, *ROWS]))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert '<dd data-count="created">2</dd>' in page
    # The file is the school's whole roll: the factory's family, absent from it, would leave.
    assert '<dd data-count="departed">2</dd>' in page
    assert accounts_count() == 1  # shown, not applied

    applied = post_form(
        browser,
        "/ecole/import/appliquer",
        {"name": "export.csv", "content": "\n".join([HEADER, *ROWS])},
        page,
    )
    done = applied.get_data(as_text=True)
    assert applied.status_code == 200 and "console.import_applied" in message_ids(done)
    assert accounts_count() == 3
    letters_url, credentials_url = re.findall(r'href="(/ecole/telechargements/[^"]+)"', done)
    pdf = PdfReader(io.BytesIO(browser.get(letters_url).data))
    assert len(pdf.pages) == 2 and "Julie Moreau" in pdf.pages[0].extract_text()
    credentials = browser.get(credentials_url).get_data(as_text=True).splitlines()
    assert credentials[0].startswith("parent_ref,identifier,provisional_password")
    assert len(credentials) == 3
    event = db.session.scalar(select(AuditEvent).filter_by(event="console_families_imported"))
    assert event.details["by_staff_id"] == staff.id and event.details["created"] == 2
    # Another staff member can't fetch these files.
    other = app.test_client()
    sign_in(other, make_staff("adjoint@ecole.example"))
    assert other.get(letters_url).status_code == 404


def test_figures_per_class_as_a_table_and_an_svg_chart(app, browser, factory):
    factory.account(status="active")
    factory.account(status="provisional", email=None, given_name="Thomas")
    locked, _ = factory.account(given_name="Marc")
    locked.status = "locked"
    db.session.commit()
    sign_in(browser, make_staff())
    page = browser.get("/ecole/chiffres?jours=0").get_data(as_text=True)
    assert "<svg" in page and 'role="img"' in page and "<title" in page
    rows = re.findall(r'<tr><th scope="row">(\w+)</th><td>(\d+)</td><td>(\d+)</td>', page)
    assert rows == [("CE2", "3", "1"), ("CP", "3", "1")]
    assert "1 compte actifs sur 3" in page or "1 comptes actifs sur 3" in page
    assert re.search(r'id="locked">1 compte bloqué', page)


def test_a_director_adds_and_removes_a_deputy(app, browser, factory, mailbox):
    factory.account()
    director = make_staff()
    sign_in(browser, director)
    page = browser.get("/ecole/equipe").get_data(as_text=True)
    form = {
        "email": "adjoint@ecole.example",
        "given_name": "Hugo",
        "family_name": "Blanc",
        "school": SCHOOL,
    }
    done = post_form(browser, "/ecole/equipe", form, page)
    assert "console.deputy_invited" in message_ids(browser.get(done.location).get_data(True))
    (link,) = links_in(mailbox.last_to("adjoint@ecole.example"))
    assert "/ecole/inscription/" in link
    deputy = db.session.scalar(select(Staff).filter_by(email="adjoint@ecole.example"))
    assert deputy.uais == [SCHOOL] and deputy.schools[0].role == "deputy"
    assert deputy.created_by_id == director.id

    page = browser.get("/ecole/equipe").get_data(as_text=True)
    post_form(browser, f"/ecole/equipe/{deputy.id}/retirer", page=page)
    db.session.refresh(deputy)
    assert deputy.status == "disabled" and deputy.schools == []
    events = db.session.scalars(select(AuditEvent).filter_by(event="staff_deputy_removed")).all()
    assert events[0].details["by_staff_id"] == director.id


def test_a_deputy_has_no_team_page_and_a_director_cant_take_a_colleague(app, browser, factory):
    factory.account()
    families_elsewhere(factory)
    make_staff("direction@voltaire.example", (OTHER_SCHOOL,))
    deputy = make_staff("adjoint@ecole.example", role="deputy")
    sign_in(browser, deputy)
    assert browser.get("/ecole/equipe").status_code == 404
    director = app.test_client()
    sign_in(director, make_staff())
    page = director.get("/ecole/equipe").get_data(as_text=True)
    form = {
        "email": "direction@voltaire.example",
        "given_name": "X",
        "family_name": "Y",
        "school": SCHOOL,
    }
    done = post_form(director, "/ecole/equipe", form, page)
    assert "console.deputy_refused" in message_ids(director.get(done.location).get_data(True))
    taken = db.session.scalar(select(Staff).filter_by(email="direction@voltaire.example"))
    assert taken.uais == [OTHER_SCHOOL]
