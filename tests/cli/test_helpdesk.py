"""The school director helps a stuck parent: `idp accounts reset` and `idp accounts show`.

A reset gives a new letter whose password signs in and leads to activation; it unlocks, ends
every session and token, cancels mailed links, keeps the email but no longer as verified.
`show` keeps the contract's JSON and tells the help desk, in words, what happened.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from idp import audit
from idp.extensions import db
from idp.flows import mailed_links
from idp.mail import mask
from idp.models import Account, AuditEvent, Flow, LoginSession, Token
from idp.models.base import utcnow
from idp.models.flows import EMAIL_CONFIRMATION
from idp.passwords import check_password
from idp.provisioning.helpdesk import reset_account
from tests.cli.harness import Cli, assert_one_line_failure
from tests.oidc_client import OIDCClient
from tests.parent import Page, Parent

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "export-ecole-exemple.csv"
SHOW_KEYS = {"identifier", "status", "email", "email_verified", "locked_reason", "last_login_at"}


def _imported(cli: Cli) -> dict[str, str]:
    """Import the sample; identifier by parent_ref."""
    imported = cli.invoke_json("families", "import", str(SAMPLE))
    return {item["parent_ref"]: item["identifier"] for item in imported["accounts"]}


def _sign_in(cli: Cli, identifier: str, password: str) -> Page:
    """Sign in with a fresh browser on the provider the CLI set up; the page it lands on."""
    with cli.app() as app:
        return Parent(app.test_client()).sign_in(identifier, password, follow=True)


def test_reset_gives_a_new_letter_whose_password_leads_to_activation(cli: Cli, tmp_path: Path):
    identifier = _imported(cli)["R0004"]
    letter = tmp_path / "lettre.pdf"

    reset = cli.json("accounts", "reset", identifier, "--letter", str(letter))

    assert set(reset) == {"identifier", "provisional_password"}
    assert reset["identifier"] == identifier
    (page,) = PdfReader(io.BytesIO(letter.read_bytes())).pages
    text = page.extract_text().replace("\u00a0", " ")
    assert reset["provisional_password"] in text and identifier in text
    assert "Françoise Cœurdevey" in text and "Léa-Maëlle Cœurdevey (CM2)" in text
    landed = _sign_in(cli, identifier, reset["provisional_password"])
    assert landed.status_code == 200 and landed.request.path.startswith("/activation")


def test_reset_replaces_the_old_password(cli: Cli):
    imported = cli.invoke_json("families", "import", str(SAMPLE))
    first = imported["accounts"][0]

    new = cli.invoke_json("accounts", "reset", first["identifier"])["provisional_password"]

    assert new != first["provisional_password"]
    assert _sign_in(cli, first["identifier"], first["provisional_password"]).status_code == 401
    with cli.app():
        account = db.session.scalar(select(Account).filter_by(identifier=first["identifier"]))
        assert check_password(new, account.password_hash)
        assert account.password_hash.startswith("$2b$06$")


def test_reset_of_a_locked_account_unlocks_it(cli: Cli):
    identifier = _imported(cli)["R0007"]
    with cli.app():
        account = db.session.scalar(select(Account).filter_by(identifier=identifier))
        account.status, account.locked_reason = "locked", "activation_birthdate_failures"
        account.activation_failures, account.failed_logins, account.failures_in_window = 5, 7, 12
        account.next_login_at = account.failure_window_start = utcnow()
        account.email, account.email_verified = "marie.dupont@example.org", True
        db.session.commit()
    assert "why locked: 5 wrong birth dates" in cli.invoke("accounts", "show", identifier).stdout

    cli.invoke_json("accounts", "reset", identifier)

    with cli.app():
        account = db.session.scalar(select(Account).filter_by(identifier=identifier))
        assert (account.status, account.locked_reason) == ("provisional", None)
        assert (account.activation_failures, account.failed_logins, account.failures_in_window) == (
            0,
            0,
            0,
        )
        assert account.next_login_at is None and account.failure_window_start is None
        assert (account.email, account.email_verified) == ("marie.dupont@example.org", False)
        assert account.provisional_expires_at > utcnow() + timedelta(days=89)
        event = db.session.scalar(select(AuditEvent).filter_by(event="account_reset"))
        assert event.details["previous_status"] == "locked"
        assert event.details["locked_reason"] == "activation_birthdate_failures"


def test_show_answers_the_help_desk_and_keeps_the_contract_json(cli: Cli):
    identifier = _imported(cli)["R0001"]
    with cli.app():
        account = db.session.scalar(select(Account).filter_by(identifier=identifier))
        account.status, account.email = "pending_email", "anais.lefevre@example.org"
        account.last_login_at = utcnow()
        audit.record("activation_mail_sent", account, email=mask(account.email))

    shown = cli.invoke_json("accounts", "show", identifier)
    text = cli.invoke("accounts", "show", identifier).stdout

    assert set(shown) == SHOW_KEYS | {"children"}
    assert "status: pending_email" in text
    assert "last mail: activation_mail_sent on " in text and "to a***@example.org" in text
    assert "last sign-in: never" not in text and "last sign-in: 20" in text
    assert "child: Noé Lefèvre (E1001), CE2" in text


def test_show_of_a_fresh_account_says_no_mail_and_never_signed_in(cli: Cli):
    identifier = _imported(cli)["R0008"]

    text = cli.invoke("accounts", "show", identifier).stdout

    assert "last mail: none sent" in text and "last sign-in: never" in text
    assert "provisional password: expires on " in text


def test_a_disabled_account_is_not_reset(cli: Cli):
    identifier = _imported(cli)["R0002"]
    with cli.app():
        db.session.scalar(select(Account).filter_by(identifier=identifier)).status = "disabled"
        db.session.commit()

    line = assert_one_line_failure(cli.invoke("accounts", "reset", identifier, "--json"))

    assert "disabled" in line
    with cli.app():
        assert (
            db.session.scalar(select(Account.status).filter_by(identifier=identifier)) == "disabled"
        )


def test_reset_of_an_unknown_identifier_is_one_line(cli: Cli, tmp_path: Path):
    done = cli("accounts", "reset", "x.nobody99", "--letter", str(tmp_path / "l.pdf"))

    assert "x.nobody99" in assert_one_line_failure(done)
    assert not list(tmp_path.glob("*.pdf"))


# On the suite's database (PostgreSQL in CI), with a real sign-in, tokens and a mailed link.


def test_reset_ends_sessions_revokes_tokens_and_cancels_links(app: Flask, factory, rp: OIDCClient):
    account, password = factory.account(email="anais@example.org")
    tokens = rp.tokens_for(account.identifier, password)
    _, token = mailed_links.create(EMAIL_CONFIRMATION, account, account.email)
    db.session.commit()
    letters: list = []

    new_password = reset_account(account, letters.append)

    assert [letter.identifier for letter in letters] == [account.identifier]
    assert letters[0].password == new_password
    assert db.session.scalar(select(LoginSession.ended_at).filter_by(account_id=account.id))
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    assert rp.refresh(tokens["refresh_token"]).status_code == 400
    token_row = db.session.scalar(select(Token).filter_by(account_id=account.id))
    assert token_row.access_token_revoked_at and token_row.refresh_token_revoked_at
    assert db.session.scalar(select(Flow.state).filter_by(account_id=account.id)) == "cancelled"
    assert mailed_links.find(token, EMAIL_CONFIRMATION).state == "cancelled"
    assert urlsplit(rp.browser.get("/").location).path == "/login"  # signed out, not held
    db.session.refresh(account)
    assert (account.status, account.email, account.email_verified) == (
        "provisional",
        "anais@example.org",
        False,
    )


def test_a_failed_letter_leaves_the_account_as_it_was(app: Flask, factory):
    account, password = factory.account()

    def jammed(letter) -> None:
        raise OSError("paper jam")

    with pytest.raises(OSError):
        reset_account(account, jammed)
    db.session.refresh(account)

    assert account.status == "active" and check_password(password, account.password_hash)
