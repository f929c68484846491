"""Staff sign in at /ecole with email, password, then a TOTP code: a code is accepted once, a
small clock drift is tolerated, the parents' brute-force protection applies to both steps, and
the console's own cookie and shorter sessions hold."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest

from idp.console import totp
from idp.extensions import db
from idp.flows import throttle
from idp.models import StaffSession
from idp.models.base import utcnow
from tests.console.helpers import STAFF_PASSWORD, make_staff, next_code, post_form, sign_in
from tests.oidc_client import csrf_token
from tests.test_brute_force import Clock

WRONG = "Pas-le-bon-mot-de-passe-1"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(throttle, "now", clock)
    return clock


def password_step(browser, staff, password=STAFF_PASSWORD, address="127.0.0.1"):
    return post_form(
        browser, "/ecole", {"email": staff.email, "password": password}, address=address
    )


def test_sign_in_takes_a_password_then_a_code(app, browser):
    staff = make_staff()
    assert password_step(browser, staff).location.endswith("/ecole/code")
    assert browser.get("/ecole/familles").status_code == 302  # not with the password alone
    answer = post_form(browser, "/ecole/code", {"totp": next_code(staff)})
    assert answer.location.endswith("/ecole/familles")
    assert browser.get("/ecole/familles").status_code == 200


def test_a_replayed_code_is_refused(app, browser):
    staff = make_staff()
    code = next_code(staff)
    password_step(browser, staff)
    assert post_form(browser, "/ecole/code", {"totp": code}).status_code == 302
    other = app.test_client()  # the same code, seen over a shoulder, in another browser
    password_step(other, staff)
    replay = post_form(other, "/ecole/code", {"totp": code})
    assert replay.status_code == 401
    assert 'data-message-id="console.code_wrong"' in replay.get_data(as_text=True)


def test_an_older_code_is_refused_after_a_newer_one(app):
    staff = make_staff()
    secret, now = staff.totp_secret, time.time()
    later = pyotp.TOTP(secret).at(now + 30)
    earlier = pyotp.TOTP(secret).at(now - 30)
    assert totp.check_code(staff, later, at=now)
    assert not totp.check_code(staff, earlier, at=now)


def test_one_step_of_clock_drift_is_tolerated_not_two(app):
    staff = make_staff()
    generator, now = pyotp.TOTP(staff.totp_secret), time.time()
    assert not totp.check_code(staff, generator.at(now - 60), at=now)
    assert not totp.check_code(staff, generator.at(now + 60), at=now)
    assert totp.check_code(staff, generator.at(now - 30), at=now)
    assert totp.check_code(staff, generator.at(now + 30), at=now)


def test_wrong_passwords_delay_the_next_try_even_with_the_right_password(app, browser, clock):
    staff = make_staff()
    for _ in range(throttle.DELAY_FROM):
        assert password_step(browser, staff, WRONG).status_code == 401
    waiting = password_step(browser, staff)  # right password, during the delay
    assert waiting.status_code == 429
    assert 59 <= int(waiting.headers["Retry-After"]) <= throttle.FIRST_DELAY
    clock.advance(throttle.FIRST_DELAY + 1)
    assert password_step(browser, staff).location.endswith("/ecole/code")


def test_an_unknown_address_gets_the_same_answers(app, browser, clock):
    staff = make_staff()
    known = [password_step(browser, staff, WRONG).status_code for _ in range(6)]
    unknown = [
        post_form(browser, "/ecole", {"email": "nobody@ecole.example", "password": WRONG})
        for _ in range(6)
    ]
    assert known == [a.status_code for a in unknown] == [401] * 5 + [429]


def test_wrong_codes_count_as_failures_and_lock_at_the_daily_cap(app, browser, clock):
    staff = make_staff()
    for tries in range(throttle.MAX_FAILURES_PER_DAY):
        if tries and tries >= throttle.DELAY_FROM:
            clock.advance(throttle.MAX_DELAY)
        address = f"10.0.0.{tries + 1}"  # an attacker's many addresses
        password_step(browser, staff, address=address)
        answer = post_form(browser, "/ecole/code", {"totp": "000000"}, address=address)
        assert answer.status_code == 401
    assert 'data-message-id="console.locked_now"' in answer.get_data(as_text=True)
    db.session.refresh(staff)
    assert staff.status == "locked"
    clock.advance(throttle.MAX_DELAY)
    assert password_step(browser, staff).status_code == 401  # locked: the password is not enough


def test_the_console_has_its_own_cookie_on_its_own_path(app, browser):
    staff = make_staff()
    sign_in(browser, staff)
    cookie = browser.get_cookie("idp_staff", path="/ecole")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert browser.get_cookie("idp_staff", path="/") is None


def test_a_parent_session_opens_nothing_in_the_console(app, browser, factory):
    account, password = factory.account()
    page = browser.get("/login").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "identifier": account.identifier, "password": password}
    assert browser.post("/login", data=form).status_code == 302
    assert browser.get("/ecole/familles").location.endswith("/ecole")


def test_idle_and_old_sessions_end(app, browser):
    staff = make_staff()
    sign_in(browser, staff)
    item = db.session.scalar(db.select(StaffSession).filter_by(stage="signed_in"))
    item.last_seen_at = utcnow() - timedelta(seconds=app.config["STAFF_SESSION_IDLE_TTL"] + 1)
    db.session.commit()
    assert browser.get("/ecole/familles").status_code == 302
    sign_in(browser, staff)
    item = db.session.scalar(
        db.select(StaffSession)
        .filter_by(stage="signed_in")
        .order_by(StaffSession.last_seen_at.desc())
        .limit(1)
    )
    item.started_at = utcnow() - timedelta(seconds=app.config["STAFF_SESSION_MAX_TTL"] + 1)
    db.session.commit()
    assert browser.get("/ecole/familles").status_code == 302


def test_staff_session_lifetimes_are_settings(make_app, mailbox):
    app = make_app(STAFF_SESSION_IDLE_TTL=60, STAFF_SESSION_MAX_TTL=120)
    assert app.config["STAFF_SESSION_IDLE_TTL"] == 60
    from idp.config import ConfigError, from_environment

    assert from_environment({"IDP_STAFF_SESSION_IDLE_TTL": "300"})["STAFF_SESSION_IDLE_TTL"] == 300
    with pytest.raises(ConfigError, match="IDP_STAFF_SESSION_IDLE_TTL"):
        make_app(STAFF_SESSION_IDLE_TTL=500, STAFF_SESSION_MAX_TTL=100)
