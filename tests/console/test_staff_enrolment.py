"""A director added by an operator (`idp staff add`) follows the mailed link, chooses a
password (the parents' policy), sets up an authenticator from the secret shown as text beside
its QR code, proves it with one code, and receives ten recovery codes, shown once."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from idp.console import staff as staff_service
from idp.extensions import db
from idp.models import AuditEvent, Staff
from tests.console.helpers import SCHOOL, STAFF_PASSWORD, message_ids, post_form
from tests.mailbox import links_in

EMAIL = "claire.dubois@ecole.example"


def add_director(app, *extra: str) -> None:
    """What `idp staff add` does (tests/cli/test_cli_staff.py runs the command itself)."""
    with app.test_request_context(base_url=app.config["ISSUER"]):
        staff_service.add_staff(EMAIL, "Claire", "Dubois", [SCHOOL])


def enrolment_link(app, mailbox) -> str:
    (link,) = links_in(mailbox.last_to(EMAIL))
    return link.removeprefix(app.config["ISSUER"])


def secret_on(page: str) -> str:
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page)
    assert match, "no secret shown as text"
    return match.group(1).replace(" ", "")


def test_director_enrols_with_a_password_then_an_authenticator(app, browser, factory, mailbox):
    factory.account()
    add_director(app)
    link = enrolment_link(app, mailbox)

    # Opening the link changes nothing; a weak password is refused with the parents' policy.
    page = browser.get(link).get_data(as_text=True)
    assert 'name="new_password"' in page and 'name="new_password_confirm"' in page
    weak = post_form(
        browser, link, {"new_password": "azerty", "new_password_confirm": "azerty"}, page
    )
    assert weak.status_code == 200 and "au moins 12 caractères" in weak.get_data(as_text=True)
    chosen = post_form(
        browser,
        link,
        {"new_password": STAFF_PASSWORD, "new_password_confirm": STAFF_PASSWORD},
        page,
    )
    assert chosen.location.endswith("/ecole/inscription/authentificateur")

    # The secret as base32 text beside its QR code (inline SVG); a wrong code is refused.
    page = browser.get("/ecole/inscription/authentificateur").get_data(as_text=True)
    assert "<svg" in page and 'name="totp"' in page
    totp = pyotp.TOTP(secret_on(page))
    wrong = post_form(browser, "/ecole/inscription/authentificateur", {"totp": "000000"}, page)
    assert wrong.status_code == 401
    assert "console.code_wrong" in message_ids(wrong.get_data(as_text=True))

    done = post_form(browser, "/ecole/inscription/authentificateur", {"totp": totp.now()}, page)
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    # Signed in: the console opens; the codes are never shown again.
    assert browser.get("/ecole/familles").status_code == 200
    assert browser.get("/ecole/inscription/authentificateur").status_code == 302
    staff = db.session.scalar(select(Staff).filter_by(email=EMAIL))
    assert staff.status == "active"
    events = db.session.scalars(select(AuditEvent.event)).all()
    assert {"staff_invited", "staff_password_chosen", "staff_enrolled"} <= set(events)

    # The link worked once.
    assert browser.get(link).status_code == 410


def test_a_recovery_code_signs_in_once(app, browser, factory, mailbox):
    factory.account()
    add_director(app)
    link = enrolment_link(app, mailbox)
    post_form(
        browser, link, {"new_password": STAFF_PASSWORD, "new_password_confirm": STAFF_PASSWORD}
    )
    page = browser.get("/ecole/inscription/authentificateur").get_data(as_text=True)
    secret = secret_on(page)
    done = post_form(
        browser, "/ecole/inscription/authentificateur", {"totp": pyotp.TOTP(secret).now()}, page
    )
    code = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))[0]

    for attempt in range(2):
        other = app.test_client()
        post_form(other, "/ecole", {"email": EMAIL, "password": STAFF_PASSWORD})
        answer = post_form(other, "/ecole/code", {"totp": code})
        if attempt == 0:
            assert answer.location.endswith("/ecole/familles")
        else:
            assert answer.status_code == 401


def test_signing_in_before_the_authenticator_is_proven_resumes_the_enrolment(
    app, browser, factory, mailbox
):
    factory.account()
    add_director(app)
    link = enrolment_link(app, mailbox)
    post_form(
        browser, link, {"new_password": STAFF_PASSWORD, "new_password_confirm": STAFF_PASSWORD}
    )
    other = app.test_client()  # another browser, the first one closed
    answer = post_form(other, "/ecole", {"email": EMAIL, "password": STAFF_PASSWORD})
    assert answer.location.endswith("/ecole/inscription/authentificateur")
    assert other.get("/ecole/familles").status_code == 302  # not signed in yet
