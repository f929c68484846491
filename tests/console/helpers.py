"""School staff in one line, and signing them in to the console over HTTP."""

from __future__ import annotations

import re
import time
from datetime import date

import pyotp
from flask.testing import FlaskClient

from idp.extensions import db
from idp.models import School, Staff, StaffSchool
from idp.models.staff import ACTIVE, DIRECTOR
from idp.passwords import hash_password
from idp.provisioning import accounts
from tests.factories import Factory
from tests.oidc_client import csrf_token

STAFF_PASSWORD = "Tableau-Noir-2026!"
SCHOOL = "0751234J"  # the factory's school (tests.factories.CHILDREN)
OTHER_SCHOOL = "0931234K"
OTHER_CHILDREN = [
    accounts.ChildSpec("Léo", "Martin", date(2017, 5, 2), OTHER_SCHOOL, "CE1", "École Voltaire")
]


def make_staff(
    email: str = "directrice@ecole.example",
    uais: tuple[str, ...] = (SCHOOL,),
    role: str = DIRECTOR,
) -> Staff:
    """An enrolled staff member (password STAFF_PASSWORD, a TOTP secret) of existing schools."""
    for uai in uais:
        if db.session.get(School, uai) is None:
            db.session.add(School(uai=uai, name=f"École {uai}"))
    staff = Staff(
        email=email,
        given_name="Claire",
        family_name="Dubois",
        status=ACTIVE,
        password_hash=hash_password(STAFF_PASSWORD),
        totp_secret=pyotp.random_base32(),
    )
    staff.schools = [StaffSchool(school_uai=uai, role=role) for uai in uais]
    db.session.add(staff)
    db.session.commit()
    return staff


def next_code(staff: Staff) -> str:
    """A code the provider has not seen yet: the earliest step after the last one used that is
    within the tolerated drift (waiting for the next step if need be)."""
    while True:
        db.session.refresh(staff)
        now_step = int(time.time()) // 30
        for step in (now_step - 1, now_step, now_step + 1):
            if step > staff.totp_last_step:
                return pyotp.TOTP(staff.totp_secret).generate_otp(step)
        time.sleep(1)


def post_form(
    browser: FlaskClient,
    url: str,
    data: dict | None = None,
    page: str | None = None,
    address: str = "127.0.0.1",
):
    """POST a form of the page at `url` (its CSRF token read from `page`, or from a GET),
    from a client address (the per-address rate limits count by it)."""
    html = page if page is not None else browser.get(url).get_data(as_text=True)
    return browser.post(
        url,
        data={"csrf_token": csrf_token(html), **(data or {})},
        environ_base={"REMOTE_ADDR": address},
    )


def sign_in(browser: FlaskClient, staff: Staff, password: str = STAFF_PASSWORD) -> None:
    answer = post_form(browser, "/ecole", {"email": staff.email, "password": password})
    assert answer.status_code == 302 and answer.location.endswith("/ecole/code"), answer.status
    answer = post_form(browser, "/ecole/code", {"totp": next_code(staff)})
    assert answer.status_code == 302 and answer.location.endswith("/ecole/familles")


def families_elsewhere(factory: Factory):
    """A family whose only child is a pupil of OTHER_SCHOOL."""
    return factory.account(
        children=OTHER_CHILDREN, given_name="Paul", family_name="Martin", email="paul@example.org"
    )


def message_ids(html: str) -> list[str]:
    return re.findall(r'data-message-id="([^"]+)"', html)
