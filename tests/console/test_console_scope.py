"""A staff member sees the families of their own schools only: every console URL that names an
account, a colleague or a file answers 404 to the staff of another school, as an unknown one."""

from __future__ import annotations

import pytest
from flask import Flask

from idp.console import downloads
from idp.extensions import db
from idp.models.staff import DEPUTY
from tests.console.helpers import (
    OTHER_SCHOOL,
    SCHOOL,
    families_elsewhere,
    make_staff,
    post_form,
    sign_in,
)
from tests.factories import Factory
from tests.oidc_client import csrf_token

# What each URL variable of the console is filled with: the other school's things.
OPEN_RULES = {"/ecole/inscription/<token>"}


@pytest.fixture
def other_school(app: Flask, factory: Factory):
    """A family, a deputy and a file of OTHER_SCHOOL, all out of reach of SCHOOL's director."""
    account, _ = families_elsewhere(factory)
    account.status = "locked"
    account.locked_reason = "reported_not_guardian"
    other_director = make_staff("direction@voltaire.example", (OTHER_SCHOOL,))
    deputy = make_staff("adjoint@voltaire.example", (OTHER_SCHOOL,), role=DEPUTY)
    item = downloads.store(other_director, "courrier.pdf", "application/pdf", b"%PDF")
    db.session.commit()
    return {"identifier": account.identifier, "staff_id": deputy.id, "download_id": item.id}


def test_every_console_url_is_a_404_for_another_schools_family(app, browser, factory, other_school):
    factory.account()  # a family of SCHOOL: the director has something of their own
    director = make_staff(uais=(SCHOOL,))
    sign_in(browser, director)
    page = browser.get("/ecole/familles").get_data(as_text=True)
    token = csrf_token(page)
    walked = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or not rule.arguments:
            continue
        if rule.rule in OPEN_RULES:
            continue
        url = rule.build({name: other_school[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = browser.open(url, method=method, data={"csrf_token": token})
            assert answer.status_code == 404, (method, url, answer.status_code)
            walked.append((method, rule.rule))
    # Every URL with a variable was walked, with each of its methods.
    assert ("GET", "/ecole/comptes/<identifier>") in walked
    assert ("POST", "/ecole/comptes/<identifier>/reinitialiser") in walked
    assert ("POST", "/ecole/equipe/<int:staff_id>/retirer") in walked
    assert ("GET", "/ecole/telechargements/<download_id>") in walked
    assert len(walked) >= 11


def test_another_schools_family_is_not_listed_nor_found(app, browser, factory, other_school):
    mine, _ = factory.account()
    sign_in(browser, make_staff(uais=(SCHOOL,)))
    everyone = browser.get("/ecole/familles").get_data(as_text=True)
    assert mine.identifier in everyone
    assert other_school["identifier"] not in everyone
    searched = browser.get("/ecole/familles?q=Martin").get_data(as_text=True)
    assert other_school["identifier"] not in searched


def test_the_same_url_works_for_the_staff_of_that_school(app, browser, factory, other_school):
    director = make_staff("direction2@voltaire.example", (OTHER_SCHOOL,))
    sign_in(browser, director)
    url = f"/ecole/comptes/{other_school['identifier']}"
    assert browser.get(url).status_code == 200
    answer = post_form(browser, f"{url}/debloquer")
    assert answer.status_code == 302
