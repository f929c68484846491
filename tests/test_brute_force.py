"""Brute-force protection (issue 4): per account, delays after five wrong passwords in a row and a
lock after 25 in a day (CNIL 2022); per client address, rate limits on the login and the
self-help forms, in memory and in Redis; and never a hint that an identifier exists.

The delays run on the throttle's clock (``idp.flows.throttle.now``), which the tests move forward
instead of sleeping. Each try comes from a fresh client address unless a test is about the
per-address limits, as an attacker's would: the per-account rules hold whatever the address.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
import requests

from idp.extensions import db
from idp.flows import throttle
from idp.models import Account, AuditEvent
from idp.models.accounts import ACTIVE, LOCKED
from idp.models.base import utcnow
from idp.passwords import hash_password, secret_hash
from tests.conftest import Browser, LiveServer
from tests.factories import Factory
from tests.oidc_client import CSRF
from tests.parent import Page, Parent
from tests.timing import assert_same_pages_and_timing, masked

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WRONG = "Pas-le-bon-mot-de-passe-1"
LOCKED_NOW = 'data-message-id="login.locked_now"'
DELAYS = [60, 120, 240, 480, 960, 1920, 3600, 3600]  # after the 5th, 6th, … failure in a row


class Clock:
    """The throttle's clock, moved by hand."""

    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(throttle, "now", clock)
    return clock


# What names this run's keys in a shared Redis: its client addresses (an IPv6 prefix drawn for
# the run) and the keyed hashes of the identifiers it tried. Only those keys are deleted.
RUN_PREFIX = f"fd{secrets.token_hex(1)}:{secrets.token_hex(2)}::"
TRIED: set[str] = set()


def ip_address() -> str:
    return f"{RUN_PREFIX}{secrets.token_hex(2)}"


def paris_clock(moment: datetime) -> str:
    """When the page says the next try is allowed: Paris time, hours and minutes."""
    return moment.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")


def minutes(page: Page) -> int:
    """The minutes to wait the page's refusal gives (the first number of its words)."""
    (refusal,) = [item for item in page.messages if item.id.startswith("login.")]
    return int(re.search(r"\d+", refusal.text).group())


def attempt(parent: Parent, identifier: str, password: str, ip: str | None = None) -> Page:
    """One try on the login page (its form and CSRF token), from ``ip`` or a fresh address."""
    TRIED.add(secret_hash(identifier))
    return parent.sign_in(identifier, password, environ_base={"REMOTE_ADDR": ip or ip_address()})


def fail(parent: Parent, identifier: str, times: int, clock: Clock, already: int = 0) -> list:
    """``times`` wrong passwords after ``already`` ones in a row, each once the delay has run."""
    answers = []
    for failures in range(already + 1, already + times + 1):
        answers.append(attempt(parent, identifier, WRONG))
        clock.advance(throttle.delay_after(failures))
    return answers


def refreshed(account: Account) -> Account:
    db.session.refresh(account)
    return account


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).filter_by(event=name)))


# --- per account ---------------------------------------------------------------------------


def test_five_failures_in_a_row_start_growing_delays_that_refuse_even_the_right_password(
    parent, make_parent, factory, clock
):
    account, password = factory.account()

    for failures, answer in enumerate(fail(parent, account.identifier, 4, clock), start=1):
        assert answer.status_code == 401  # no delay yet; from the third, a warning that one
        warned = failures >= 3  # follows, and a way out: "Mot de passe oublié"
        assert answer.alert_ids == ["login.failed_warning" if warned else "login.failed"]
        (alert,) = answer.tree.find_all(role="alert")
        assert ("/recovery/password" in [a["href"] for a in alert.find_all("a")]) == warned
    fifth = attempt(parent, account.identifier, WRONG)
    assert fifth.status_code == 401
    assert fifth.alert_ids == ["login.failed_wait"] and minutes(fifth) == 1
    until = paris_clock(clock.at.replace(microsecond=0) + timedelta(seconds=60))
    assert f"à partir de {until}" in fifth.text  # the wait says until when

    # During the delay the right password is refused too, unchecked, with when to retry.
    early = attempt(parent, account.identifier, password)
    assert early.status_code == 429
    assert early.alert_ids == ["login.throttled"] and minutes(early) == 1
    assert int(early.headers["Retry-After"]) >= 59
    clock.advance(30)
    later = attempt(parent, account.identifier, password)
    assert later.alert_ids == ["login.throttled"] and minutes(later) == 1
    assert refreshed(account).failed_logins == 5  # tries during the delay don't count

    # Each further failure doubles the wait, up to an hour.
    clock.advance(30)
    for failures, delay in enumerate(DELAYS[1:], start=6):
        answer = attempt(parent, account.identifier, WRONG)
        assert answer.status_code == 401, failures
        assert answer.alert_ids == ["login.failed_wait"], failures
        assert minutes(answer) == delay // 60, failures
        assert refreshed(account).next_login_at == clock.at.replace(microsecond=0) + timedelta(
            seconds=delay
        )
        clock.advance(delay - 1)
        assert attempt(parent, account.identifier, password).status_code == 429
        clock.advance(1)

    # Once the delay has run out, the right password signs in and the count starts again.
    assert attempt(parent, account.identifier, password).status_code == 302
    assert refreshed(account).failed_logins == 0 and account.next_login_at is None
    assert account.failures_in_window == 12  # the day's count stays
    assert attempt(make_parent(), account.identifier, WRONG).status_code == 401
    assert refreshed(account).failed_logins == 1 and account.next_login_at is None
    assert len(events("login_throttled")) == 2 + len(DELAYS[1:])
    assert len(events("login_failed")) == 13


def test_the_25th_failure_in_a_day_locks_the_account_until_the_school_unlocks_it(
    parent, factory, clock
):
    account, password = factory.account()

    answers = fail(parent, account.identifier, 24, clock)
    assert all("login.locked_now" not in answer.message_ids for answer in answers)
    assert refreshed(account).status == ACTIVE
    last = fail(parent, account.identifier, 1, clock, already=24)[0]

    assert last.status_code == 401 and last.alert_ids == ["login.locked_now"]
    assert refreshed(account).status == LOCKED
    assert account.locked_reason == "too_many_login_failures"
    (event,) = events("account_locked")
    assert event.account_id == account.id and event.details == {"reason": "too_many_login_failures"}

    clock.advance(throttle.MAX_DELAY)
    refused = attempt(parent, account.identifier, password)
    assert refused.status_code == 401 and refused.alert_ids == ["login.account_locked"]
    assert parent.open("/").location.endswith("/login")


def test_the_day_count_starts_again_after_24_hours(parent, factory, clock):
    account, password = factory.account()
    fail(parent, account.identifier, 20, clock)
    assert refreshed(account).failures_in_window == 20
    clock.advance(throttle.DAY)

    fail(parent, account.identifier, 5, clock, already=20)

    assert refreshed(account).status == ACTIVE
    assert account.failures_in_window == 5 and account.failed_logins == 25
    assert attempt(parent, account.identifier, password).status_code == 302


def test_concurrent_failures_all_count(app, factory, clock):
    account, _ = factory.account()
    identifier = account.identifier
    tries = 4
    barrier = threading.Barrier(tries)

    def one_try(server_url: str) -> int:
        browser = requests.Session()
        page = browser.get(f"{server_url}/login", timeout=10)
        barrier.wait(timeout=10)
        data = {
            "identifier": identifier,
            "password": WRONG,
            "csrf_token": CSRF.search(page.text).group(1),
        }
        return browser.post(f"{server_url}/login", data=data, timeout=10).status_code

    db.session.commit()
    with LiveServer(app) as server, ThreadPoolExecutor(tries) as pool:
        statuses = list(pool.map(one_try, [server.url] * tries))

    assert statuses == [401] * tries
    assert refreshed(account).failed_logins == tries and account.failures_in_window == tries


# --- never a hint that an identifier exists ------------------------------------------------


def story(parent: Parent, identifier: str, clock: Clock) -> list[tuple[int, str]]:
    """Every page of 26 wrong passwords, with a try during each delay, masked for comparison."""
    start = clock.at
    pages = []
    for failures in range(1, 27):
        pages.append(masked(attempt(parent, identifier, WRONG), identifier))
        delay = throttle.delay_after(failures)
        if delay:
            pages.append(masked(attempt(parent, identifier, WRONG), identifier))
            clock.advance(delay / 2)
            pages.append(masked(attempt(parent, identifier, WRONG), identifier))
            clock.advance(delay / 2)
    clock.at = start
    return pages


def test_unknown_identifier_gets_the_same_pages_delays_and_lock_as_an_account(
    parent, factory, clock
):
    account, _ = factory.account()

    known = story(parent, account.identifier, clock)
    unknown = story(parent, "x.inconnu42", clock)

    assert known == unknown
    statuses = [status for status, _ in known]
    assert statuses.count(429) > 0 and set(statuses) == {401, 429}
    assert any(LOCKED_NOW in page for _, page in known)
    assert refreshed(account).status == LOCKED


def test_failed_login_pages_and_timing_do_not_tell_whether_the_identifier_exists(
    factory, make_app, mailbox
):
    """At a bcrypt cost near production's (10 rounds here, 12 there), as an attacker would time
    it; at the tests' 4 rounds the password check is nearly free and the comparison would only
    weigh SQLite's writes (an account's counters against an unknown identifier's in memory)."""
    rounds = 10
    password_hash = hash_password("Un-autre-mot-de-passe-7", rounds=rounds)
    accounts = []
    for n in range(50):
        account = factory.account(given_name=f"Anaïs{n}")[0]
        account.password_hash = password_hash
        accounts.append(account.identifier)
    db.session.commit()
    site = make_app(SMTP_URL=mailbox.url, BCRYPT_ROUNDS=rounds)
    browser = site.test_client()
    parent = Parent(browser)
    existing, unknown = iter(accounts), (f"x.inconnu{n}" for n in range(1000))

    def send(case: str) -> tuple[float, tuple[int, str]]:
        identifier = next(existing) if case == "existing" else next(unknown)
        data = {"identifier": identifier, "password": WRONG, "csrf_token": parent.csrf_token()}
        started = time.perf_counter()
        response = browser.post("/login", data=data, environ_base={"REMOTE_ADDR": ip_address()})
        elapsed = time.perf_counter() - started
        assert response.status_code == 401 and Page(response).alert_ids == ["login.failed"]
        return elapsed, masked(response, identifier)

    assert_same_pages_and_timing(send, "existing", "missing")


# --- per client address: Flask-Limiter, in memory and in Redis -----------------------------


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    """The test Redis (db 15 by default); skipped when unreachable unless services are required."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, decode_responses=True)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("IDP_TEST_REQUIRE_SERVICES"):
            pytest.fail(f"Redis at {REDIS_URL} is required: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    markers = [RUN_PREFIX, *TRIED]
    for key in client.scan_iter(count=1000):
        if any(marker in key for marker in markers):
            client.delete(key)
    client.close()


@pytest.fixture(params=["memory", "redis"])
def site(request, make_app, mailbox) -> Iterator:
    """The provider with its counters in process memory, or in Redis as several instances."""
    overrides = {"SMTP_URL": mailbox.url}
    if request.param == "redis":
        overrides["REDIS_URL"] = REDIS_URL
        request.getfixturevalue("redis_db")
    app = make_app(**overrides)
    app.test_client_class = Browser
    with app.app_context():
        yield app


@pytest.fixture
def address() -> str:
    """This test's one client address."""
    return ip_address()


def test_one_address_gets_20_login_tries_a_minute_then_a_french_429(site, address):
    parent = Parent(site.test_client())
    names = [f"x.inconnu-{secrets.token_hex(4)}" for _ in range(22)]
    for name in names[:20]:  # a different identifier each time: only the address limit applies
        assert attempt(parent, name, WRONG, ip=address).status_code == 401

    refused = attempt(parent, names[20], WRONG, ip=address)

    assert refused.status_code == 429 and refused.message_ids == ["error.429"]
    assert "Trop de tentatives" in refused.text  # in French, on purpose
    assert "Patientez quelques minutes avant de réessayer." in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert parent.open("/login").status_code == 200  # the page itself stays readable
    other = attempt(parent, names[21], WRONG, ip=ip_address())
    assert other.status_code == 401  # another address is not concerned


def test_the_self_help_forms_share_10_tries_a_minute_per_address(site, address):
    parent = Parent(site.test_client())
    from_address = {"REMOTE_ADDR": address}
    forms = [("/recovery/identifier", "email", "personne@example.org")]
    forms.append(("/recovery/password", "identifier", "x.inconnu42"))
    for n in range(10):
        path, field, value = forms[n % 2]
        answer = parent.submit(path, environ_base=from_address, **{field: value})
        assert answer.status_code == 200, n

    refused = parent.submit(
        "/recovery/password", environ_base=from_address, identifier="x.inconnu42"
    )
    assert refused.status_code == 429 and refused.message_ids == ["error.429"]
    assert int(refused.headers["Retry-After"]) > 0
    data = {"csrf_token": parent.csrf_token("/recovery/password"), "new_password": WRONG}
    reset = parent.browser.post("/recovery/password/x", data=data, environ_base=from_address)
    assert reset.status_code == 429  # the reset page counts too


@pytest.mark.parametrize("site", ["redis"], indirect=True)
def test_counters_live_in_redis_when_it_is_configured(site, address, redis_db, clock):
    """With IDP_REDIS_URL, every instance reads the same counters: they are in Redis."""
    identifier = f"x.inconnu-{secrets.token_hex(4)}"
    parent = Parent(site.test_client())

    for _ in range(5):
        attempt(parent, identifier, WRONG, ip=address)
    throttled = attempt(parent, identifier, WRONG)

    assert throttled.status_code == 429 and throttled.alert_ids == ["login.throttled"]
    assert minutes(throttled) == 1
    keys = list(redis_db.scan_iter(count=1000))
    assert any(address in key for key in keys)  # the per-address limit
    assert any(secret_hash(identifier) in key for key in keys)  # the unknown identifier's count
    assert not any(identifier in key for key in keys)  # never the identifier itself


def test_unknown_identifiers_are_throttled_alike_in_either_storage(site, clock):
    identifier = f"x.inconnu-{secrets.token_hex(4)}"
    account, _ = Factory(site).account()
    parent = Parent(site.test_client())

    assert story(parent, account.identifier, clock) == story(parent, identifier, clock)


def test_a_provisional_account_answers_in_the_time_of_any_other(make_app):
    """Provisional passwords are hashed at a lower cost; the login must not tell by its speed."""
    import time as clock

    from idp.passwords import check_password_evenly, hash_password

    app = make_app(BCRYPT_ROUNDS=10, PROVISIONAL_BCRYPT_ROUNDS=4)
    with app.app_context():
        cheap, full = hash_password("Provisoire-A1b2", 4), hash_password("Choisi-A1b2c3", 10)

        def median(stored: str) -> float:
            times = []
            for _ in range(7):
                start = clock.perf_counter()
                check_password_evenly("wrong password", stored)
                times.append(clock.perf_counter() - start)
            return sorted(times)[3]

        assert median(cheap) >= 0.8 * median(full)
