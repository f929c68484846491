"""The school creates a parent's account from a script, and the help desk looks it up (§2, §5).

`idp accounts create` prints the identifier and provisional password for the paper letter, with a
generated school reference for each child; the account waits, provisional, with only a hash of
that password. A bad child line is refused with one `idp: …` line and writes nothing.
`idp accounts show` gives the help desk exactly the documented fields.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from idp.extensions import db
from idp.models import Account, Child, School
from idp.models.base import utcnow
from idp.passwords import check_password
from tests.cli.harness import Cli, assert_one_line_failure
from tests.parent import Parent

LEA = "Léa-Maëlle;Cœurdevey;21/06/2014;0751234J;CM2;École Jules-Ferry"
TOM = "Tom;Cœurdevey;2016-09-03;0751234J;CP"  # ISO date; the school is known by then
IDENTIFIER = re.compile(r"^[a-z]\.[a-z]+\d{2,}$")
LOOK_ALIKES = set("0O1lI")
SHOW_KEYS = {"identifier", "status", "email", "email_verified", "locked_reason", "last_login_at"}


def _create_args(*children: str, given: str = "Élodie", family: str = "Cœurdevey") -> list[str]:
    """`accounts create …` for one parent and these children (Léa and Tom by default)."""
    options = [option for child in children or (LEA, TOM) for option in ("--child", child)]
    return ["accounts", "create", "--given-name", given, "--family-name", family, *options]


def _create(cli: Cli, *children: str, **names: str) -> dict:
    """Create an account in-process; returns the `--json` document."""
    return cli.invoke_json(*_create_args(*children, **names))


def test_create_prints_identifier_password_and_children_refs(cli: Cli):
    created = cli.json(*_create_args(LEA, TOM))

    assert IDENTIFIER.match(created["identifier"])
    assert created["identifier"].startswith("e.coeurdevey")
    password = created["provisional_password"]
    assert len(password) >= 10 and not LOOK_ALIKES & set(password)
    lea, tom = created["children"]
    assert lea["ref"] and tom["ref"] and lea["ref"] != tom["ref"]
    assert (lea["given_name"], lea["family_name"], lea["class_level"]) == (
        "Léa-Maëlle",
        "Cœurdevey",
        "CM2",
    )
    assert tom["school"] == lea["school"] == {"uai": "0751234J", "name": "École Jules-Ferry"}


def test_created_account_is_provisional_and_stores_only_a_hash(cli: Cli):
    created = _create(cli)

    with cli.app():
        account = Account.query.filter_by(identifier=created["identifier"]).one()
        assert account.status == "provisional"
        assert account.password_hash != created["provisional_password"]
        assert created["provisional_password"] not in account.password_hash
        assert check_password(created["provisional_password"], account.password_hash)
        expected_expiry = utcnow() + timedelta(days=90)
        assert abs(account.provisional_expires_at - expected_expiry) < timedelta(minutes=5)
        birthdates = {child.given_name: child.birthdate for child in account.children}
    assert birthdates == {"Léa-Maëlle": date(2014, 6, 21), "Tom": date(2016, 9, 3)}


def test_provisional_password_signs_in(cli: Cli):
    created = _create(cli)

    with cli.app() as app:
        parent = Parent(app.test_client())
        signed_in = parent.sign_in(created["identifier"], created["provisional_password"])

    assert signed_in.status_code == 302


@pytest.mark.parametrize(
    ("family", "folded"),
    [("Cœurdevey", "coeurdevey"), ("N'Diaye-Martin", "ndiayemartin"), ("Lefèvre", "lefevre")],
)
def test_identifiers_fold_the_family_name_and_never_repeat(cli: Cli, family: str, folded: str):
    child = f"Noé;{family};2016-02-14;0751234J;CE2;École Jules-Ferry"
    identifiers = {
        _create(cli, child, given="Anaïs", family=family)["identifier"] for _ in range(3)
    }

    assert len(identifiers) == 3
    for identifier in identifiers:
        assert IDENTIFIER.match(identifier) and identifier.startswith(f"a.{folded}")


@pytest.mark.parametrize(
    "bad_child",
    [
        pytest.param("Tom;Cœurdevey;2016-09-03", id="too-few-fields"),
        pytest.param("Tom;Cœurdevey;31/02/2016;0751234J;CP", id="bad-date"),
        pytest.param("Tom;Cœurdevey;2016-09-03;751234J;CP;École", id="bad-uai"),
    ],
)
def test_bad_child_is_one_line_and_writes_nothing(cli: Cli, bad_child: str):
    assert_one_line_failure(cli(*_create_args(LEA, bad_child), "--json"))

    assert (cli.count(Account), cli.count(Child), cli.count(School)) == (0, 0, 0)


def test_a_child_of_an_unknown_school_needs_no_school_name(cli: Cli, tmp_path):
    """The contract makes the name optional (issue 10 §10): an import names the school later."""
    created = _create(cli, "Tom;Cœurdevey;2016-09-03;0759999Z;CP")

    (child,) = created["children"]
    assert child["school"] == {"uai": "0759999Z", "name": None}
    export = tmp_path / "export.csv"
    export.write_text(
        "parent_ref,parent_family_name,parent_given_name,child_ref,child_family_name,"
        "child_given_name,child_birthdate,school_uai,school_name,class_level\n"
        "P1,Martin,Anne,E1,Martin,Léo,2016-01-02,0759999Z,École du Parc,CP\n",
        encoding="utf-8",
    )
    assert cli("families", "import", str(export), "--json").returncode == 0
    with cli.app():
        assert db.session.get(School, "0759999Z").name == "École du Parc"


def test_show_gives_the_help_desk_the_documented_fields(cli: Cli):
    created = _create(cli)

    shown = cli.json("accounts", "show", created["identifier"])

    assert set(shown) >= SHOW_KEYS
    assert shown["identifier"] == created["identifier"]
    assert shown["status"] == "provisional"
    assert shown["email"] is None and shown["email_verified"] is False
    assert shown["locked_reason"] is None and shown["last_login_at"] is None
    assert shown["children"] == created["children"]
    for child in shown["children"]:
        assert set(child) == {"ref", "given_name", "family_name", "school", "class_level"}
        assert set(child["school"]) == {"uai", "name"}


def test_show_gives_exactly_the_documented_fields(cli: Cli):
    created = _create(cli)

    shown = cli.invoke_json("accounts", "show", created["identifier"])

    assert set(shown) == SHOW_KEYS | {"children"}


def test_show_ignores_the_case_of_the_identifier(cli: Cli):
    created = _create(cli)

    shown = cli.invoke_json("accounts", "show", created["identifier"].upper())

    assert shown["identifier"] == created["identifier"]


def test_show_of_an_unknown_identifier_is_one_line(cli: Cli):
    done = cli("accounts", "show", "x.nobody99", "--json")

    assert done.returncode == 1
    assert "x.nobody99" in assert_one_line_failure(done)
