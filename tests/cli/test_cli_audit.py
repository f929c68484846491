"""An operator hands a registration tool its initial access token, and reads the audit trail.

`idp clients token` prints a token once (only its keyed hash is kept) that registers exactly one
teleservice by API before it expires. `idp audit` answers "who did what, when, from where", oldest
of the shown events first, filtered by account, teleservice, date and count; a typo in an
identifier is one `idp: …` line, never an empty answer that looks like a quiet account.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, AuditEvent, InitialAccessToken
from idp.oidc.clients import registry
from idp.passwords import secret_hash
from idp.provisioning import accounts
from tests.cli.harness import Cli, assert_one_line_failure

CALLBACK = "https://lsu.example.org/callback"
CHILD = accounts.ChildSpec("Léa", "Cœurdevey", date(2014, 6, 21), "0751234J", "CM2", "École")
IP = "203.0.113.7"


def _at(day: int, hour: int, second: int = 0) -> datetime:
    return datetime(2020, 1, day, hour, 0, second, tzinfo=UTC)


def _seed(cli: Cli) -> dict[str, str]:
    """Two parents and a teleservice, with a known timeline of six events (UTC):
    01/01 07:00 account_created (Élodie), 07:10 account_created (Marc), 07:30 client_registered,
    02/01 08:00:00 login (Élodie, from IP), 08:00:01 code_issued (Élodie, LSU), 03/01 09:00
    login_failed (Marc)."""
    with cli.app():
        elodie, _ = accounts.create_account("Élodie", "Cœurdevey", [CHILD])
        marc, _ = accounts.create_account("Marc", "Abiven", [CHILD])
        client, _ = registry.register_client("LSU", [CALLBACK])
        moments = {
            ("account_created", elodie.id): _at(1, 7),
            ("account_created", marc.id): _at(1, 7) + timedelta(minutes=10),
            ("client_registered", None): _at(1, 7) + timedelta(minutes=30),
        }
        for event in db.session.scalars(select(AuditEvent)):
            event.at = moments[event.event, event.account_id]
        db.session.add_all(
            [
                AuditEvent(event="login", account_id=elodie.id, ip_address=IP, at=_at(2, 8)),
                AuditEvent(
                    event="code_issued",
                    account_id=elodie.id,
                    client_id=client.client_id,
                    ip_address=IP,
                    at=_at(2, 8, 1),
                ),
                AuditEvent(event="login_failed", account_id=marc.id, at=_at(3, 9), details={}),
            ]
        )
        db.session.commit()
        return {"elodie": elodie.identifier, "marc": marc.identifier, "lsu": client.client_id}


def _events(cli: Cli, *options: str) -> list[str]:
    return [event["event"] for event in cli.invoke_json("audit", *options)]


# 1. The initial access token


def test_token_is_shown_once_kept_hashed_and_registers_one_teleservice(cli: Cli):
    minted = cli.json("clients", "token")

    token = minted["initial_access_token"]
    assert set(minted) == {"initial_access_token", "expires_at"} and len(token) >= 43
    expires_at = datetime.fromisoformat(minted["expires_at"])
    assert abs((expires_at - datetime.now(UTC)).total_seconds() - 3600) < 10
    with cli.app() as app:
        (row,) = db.session.scalars(select(InitialAccessToken)).all()
        assert row.token_hash == secret_hash(token) and row.used_at is None
        tool = app.test_client()
        metadata = {"client_name": "LSU", "redirect_uris": [CALLBACK]}
        headers = {"Authorization": f"Bearer {token}"}
        assert tool.post("/register", json=metadata, headers=headers).status_code == 201
        assert tool.post("/register", json=metadata, headers=headers).status_code == 401
        token_hash = secret_hash(token)

    trail = cli.invoke("audit", "--json").stdout
    assert "initial_access_token_minted" in trail and "client_registered" in trail
    assert token not in trail and token_hash not in trail


def test_token_lifetime_is_chosen_within_bounds(cli: Cli):
    minted = cli.invoke_json("clients", "token", "--expires-in", "60")

    expires_at = datetime.fromisoformat(minted["expires_at"])
    assert abs((expires_at - datetime.now(UTC)).total_seconds() - 60) < 10
    text = cli.invoke("clients", "token")
    assert text.exit_code == 0 and text.stdout.startswith("initial_access_token: ")
    for bad in ("0", "-5", "soon", str(31 * 86400)):
        assert_one_line_failure(cli.invoke("clients", "token", "--expires-in", bad))


# 2. The audit trail


def test_audit_lists_who_did_what_when_and_from_where_oldest_first(cli: Cli):
    seeded = _seed(cli)

    listed = cli.json("audit")

    assert [e["event"] for e in listed] == [
        "account_created",
        "account_created",
        "client_registered",
        "login",
        "code_issued",
        "login_failed",
    ]
    code = listed[4]
    assert code == {
        "at": "2020-01-02T08:00:01+00:00",
        "event": "code_issued",
        "identifier": seeded["elodie"],
        "client_id": seeded["lsu"],
        "ip_address": IP,
        "details": {},
    }
    assert listed[0]["details"] == {"children": 1}
    assert listed[2]["client_id"] == seeded["lsu"] and listed[2]["identifier"] is None

    text = cli.invoke("audit", "--identifier", seeded["elodie"])
    lines = text.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0] == (
        f'2020-01-01T07:00:00+00:00  account_created  {seeded["elodie"]}  -  -  {{"children": 1}}'
    )


def test_audit_filters(cli: Cli):
    seeded = _seed(cli)

    assert _events(cli, "--identifier", seeded["elodie"]) == [
        "account_created",
        "login",
        "code_issued",
    ]
    assert _events(cli, "--identifier", seeded["marc"].upper()) == [
        "account_created",
        "login_failed",
    ]
    assert _events(cli, "--client", seeded["lsu"]) == ["client_registered", "code_issued"]
    assert _events(cli, "--client", "removed-long-ago") == []
    for since in ("2020-01-02", "02/01/2020", "2020-01-02T09:00:00+01:00"):
        assert _events(cli, "--since", since) == ["login", "code_issued", "login_failed"], since
    assert _events(cli, "--since", "2020-01-02T08:00:00.5") == ["code_issued", "login_failed"]
    assert _events(cli, "--limit", "2") == ["code_issued", "login_failed"]
    both = ("--identifier", seeded["elodie"], "--since", "2020-01-02", "--limit", "1")
    assert _events(cli, *both) == ["code_issued"]


def test_an_empty_trail_is_an_empty_list(cli: Cli):
    assert cli.invoke_json("audit") == []
    assert cli.invoke("audit").stdout == "no events\n"


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--identifier", "x.nobody99"], "x.nobody99"),
        (["--since", "yesterday"], "yesterday"),
        (["--since", "31/02/2020"], "31/02/2020"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_bad_audit_options_are_one_line(cli: Cli, options: list[str], said: str):
    assert said in assert_one_line_failure(cli.invoke("audit", *options, "--json"))


def test_account_removed_events_keep_their_place(cli: Cli):
    """An event outlives its account (SET NULL): listed, with no identifier."""
    seeded = _seed(cli)
    with cli.app():
        db.session.delete(db.session.scalar(select(Account).filter_by(identifier=seeded["marc"])))
        db.session.commit()

    listed = cli.invoke_json("audit", "--since", "2020-01-03")
    assert [(e["event"], e["identifier"]) for e in listed] == [("login_failed", None)]
