"""The school imports its families from its export (docs/contract.md §2, §5), and imports it again.

The sample export (`tests/data`) has what real exports have: a BOM,
semicolons, CRLF, both date forms, two parents sharing two children, accents, œ, æ, apostrophes,
Vietnamese diacritics, a 29 February. A re-import creates nothing twice and never touches a
password or a status; a bad file imports nothing and says, row by row, why.

Most variations run in-process (CliRunner) on the installation's SQLite file; the last tests call
the same service on the suite's database (PostgreSQL when IDP_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, AuditEvent, Child, Link, School
from idp.passwords import UNAMBIGUOUS, check_password, hash_password
from idp.provisioning.bulk_credentials import Hashing
from idp.provisioning.export import COLUMNS, read_export
from idp.provisioning.families import import_families
from tests.cli.harness import Cli, assert_one_line_failure

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "export-ecole-exemple.csv"
PARENTS = {f"R000{n}" for n in range(1, 9)}
CREDENTIAL_COLUMNS = [
    "parent_ref",
    "identifier",
    "provisional_password",
    "family_name",
    "given_name",
]
SCHOOL = ["0751234J", "École élémentaire Jules-Ferry"]


def sample_rows() -> list[list[str]]:
    """The sample's rows, header excluded."""
    text = SAMPLE.read_bytes().decode("utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=";")][1:]


def write_export(
    path: Path, rows: list[list[str]], separator: str = ";", bom: bool = True, crlf: bool = True
) -> Path:
    lines = [separator.join(COLUMNS)] + [separator.join(row) for row in rows]
    newline = "\r\n" if crlf else "\n"
    path.write_bytes((("\ufeff" if bom else "") + newline.join(lines) + newline).encode())
    return path


def family_row(parent: str, child: str, born: str = "2016-02-14", **fields: str) -> list[str]:
    values = {
        "parent_ref": parent,
        "parent_family_name": "Martin",
        "parent_given_name": "Claire",
        "child_ref": child,
        "child_family_name": "Martin",
        "child_given_name": "Jules",
        "child_birthdate": born,
        "school_uai": SCHOOL[0],
        "school_name": SCHOOL[1],
        "class_level": "CE1",
    }
    values.update(fields)
    return [values[column] for column in COLUMNS]


def import_json(cli: Cli, path: Path, *options: str) -> dict:
    return cli.invoke_json("families", "import", str(path), *options)


def links_by_parent(cli: Cli) -> dict[str, set[str]]:
    with cli.app():
        rows = db.session.execute(
            select(Account.parent_ref, Child.ref).join(Link.account).join(Link.child)
        )
        linked: dict[str, set[str]] = {}
        for parent_ref, child_ref in rows:
            linked.setdefault(parent_ref, set()).add(child_ref)
    return linked


def test_sample_export_creates_each_parent_child_and_link_once(cli: Cli, tmp_path: Path):
    done = cli("families", "import", str(SAMPLE), "--json")
    imported = Cli.loads(done)

    assert (imported["created"], imported["updated"], imported["unchanged"]) == (8, 0, 0)
    assert {item["parent_ref"] for item in imported["accounts"]} == PARENTS
    assert (cli.count(Account), cli.count(Child), cli.count(Link)) == (8, 8, 10)
    linked = links_by_parent(cli)
    assert linked["R0001"] == linked["R0002"] == {"E1001", "E1002"}  # two parents, two children
    assert linked["R0006"] == {"E1006"}
    with cli.app():
        zoe = db.session.scalar(select(Child).filter_by(ref="E1007"))
        assert (zoe.given_name, zoe.family_name, zoe.birthdate) == (
            "Zoé",
            "Durand",
            date(2016, 2, 29),
        )
        noe = db.session.scalar(select(Child).filter_by(ref="E1001"))
        assert noe.birthdate == date(2016, 2, 14)  # JJ/MM/AAAA
        assert db.session.scalar(select(Child.birthdate).filter_by(ref="E1003")) == date(
            2015, 11, 30
        )
        names = {a.parent_ref: a.name for a in db.session.scalars(select(Account))}
        assert names["R0006"] == "Thị Lan Nguyễn" and names["R0004"] == "Françoise Cœurdevey"
        assert db.session.get(School, "0751234J").name == SCHOOL[1]


def test_json_document_is_exactly_the_contract(cli: Cli):
    imported = import_json(cli, SAMPLE)

    assert set(imported) == {"created", "updated", "unchanged", "accounts"}
    identifiers = set()
    for item in imported["accounts"]:
        assert set(item) == {"parent_ref", "identifier", "provisional_password"}
        password = item["provisional_password"]
        assert len(password) >= 10 and set(password) <= set(UNAMBIGUOUS)
        identifiers.add(item["identifier"])
    assert len(identifiers) == 8
    by_ref = {item["parent_ref"]: item["identifier"] for item in imported["accounts"]}
    assert by_ref["R0004"].startswith("f.coeurdevey") and by_ref["R0003"].startswith("a.ndiaye")
    assert by_ref["R0006"].startswith("t.nguyen") and by_ref["R0008"].startswith("s.obrien")


def test_new_accounts_are_provisional_and_their_password_signs_in(cli: Cli):
    imported = import_json(cli, SAMPLE)

    with cli.app():
        for item in imported["accounts"]:
            account = db.session.scalar(select(Account).filter_by(identifier=item["identifier"]))
            assert account.status == "provisional" and account.parent_ref == item["parent_ref"]
            assert account.provisional_expires_at is not None
            assert account.password_hash.startswith("$2b$06$")  # the provisional cost
            assert check_password(item["provisional_password"], account.password_hash)


def test_reimport_of_the_same_file_changes_nothing(cli: Cli):
    import_json(cli, SAMPLE)
    with cli.app():
        before = {a.identifier: a.password_hash for a in db.session.scalars(select(Account))}

    again = import_json(cli, SAMPLE)

    assert again == {"created": 0, "updated": 0, "unchanged": 8, "accounts": []}
    assert (cli.count(Account), cli.count(Child), cli.count(Link)) == (8, 8, 10)
    with cli.app():
        after = {a.identifier: a.password_hash for a in db.session.scalars(select(Account))}
    assert after == before


def _activate(cli: Cli, parent_ref: str, **values) -> None:
    with cli.app():
        account = db.session.scalar(select(Account).filter_by(parent_ref=parent_ref))
        for name, value in values.items():
            setattr(account, name, value)
        db.session.commit()


def test_updated_file_updates_names_classes_and_links_but_never_password_or_status(
    cli: Cli, tmp_path: Path
):
    first = import_json(cli, SAMPLE)
    chosen = hash_password("Trousse-Verte-88", rounds=4)
    _activate(cli, "R0001", status="active", password_hash=chosen, email="anais@example.org")
    _activate(cli, "R0003", status="locked", locked_reason="activation_birthdate_failures")
    rows = sample_rows()
    rows[0][2] = rows[1][2] = "Anaïs-Marie"  # R0001 given name corrected
    for row in rows:
        if row[3] == "E1002":
            row[9] = "CE1"  # Inès moves up a class
    rows = [row for row in rows if (row[0], row[3]) != ("R0002", "E1001")]  # custody change
    joao = {"parent_family_name": "Da Silva", "parent_given_name": "João"}
    rows.append(family_row("R0005", "E1009", child_family_name="Da Silva", **joao))
    aoife = {"child_family_name": "O'Brien", "child_given_name": "Aoife", "class_level": "GS"}
    rows.append(family_row("R0009", "E1008", "05/05/2019", parent_given_name="Niamh", **aoife))

    again = import_json(cli, write_export(tmp_path / "updated.csv", rows))

    assert (again["created"], again["updated"], again["unchanged"]) == (1, 3, 5)
    assert [item["parent_ref"] for item in again["accounts"]] == ["R0009"]
    linked = links_by_parent(cli)
    assert linked["R0002"] == {"E1002"} and linked["R0001"] == {"E1001", "E1002"}
    assert linked["R0005"] == {"E1005", "E1009"} and linked["R0009"] == {"E1008"}
    assert linked["R0008"] == {"E1008"}
    with cli.app():
        anais = db.session.scalar(select(Account).filter_by(parent_ref="R0001"))
        assert anais.given_name == "Anaïs-Marie"
        assert (anais.status, anais.password_hash, anais.email) == (
            "active",
            chosen,
            "anais@example.org",
        )
        assert anais.identifier == next(
            a["identifier"] for a in first["accounts"] if a["parent_ref"] == "R0001"
        )
        locked = db.session.scalar(select(Account).filter_by(parent_ref="R0003"))
        assert (locked.status, locked.locked_reason) == ("locked", "activation_birthdate_failures")
        assert db.session.scalar(select(Child.class_level).filter_by(ref="E1002")) == "CE1"


def test_renamed_school_updates_the_school_and_counts_its_families(cli: Cli, tmp_path: Path):
    import_json(cli, SAMPLE)
    rows = sample_rows()
    for row in rows:
        row[8] = "École Jules-Ferry"

    again = import_json(cli, write_export(tmp_path / "renamed.csv", rows))

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 8, 0)
    with cli.app():
        assert db.session.get(School, "0751234J").name == "École Jules-Ferry"


@pytest.mark.parametrize(
    ("separator", "bom", "crlf"),
    [(",", False, False), (";", False, False), (",", True, True)],
    ids=["comma-lf", "semicolon-no-bom", "comma-bom-crlf"],
)
def test_both_separators_with_or_without_bom_and_crlf(
    cli: Cli, tmp_path: Path, separator: str, bom: bool, crlf: bool
):
    rows = [[field.replace(",", " ") for field in row] for row in sample_rows()]
    path = write_export(tmp_path / "export.csv", rows, separator, bom, crlf)

    imported = import_json(cli, path)

    assert imported["created"] == 8
    assert links_by_parent(cli)["R0002"] == {"E1001", "E1002"}


def test_columns_are_found_by_name_in_any_order(cli: Cli, tmp_path: Path):
    order = list(reversed(COLUMNS)) + ["email_hors_contrat"]
    rows = [family_row("R1", "E1")[::-1] + ["ignored@example.org"]]
    path = tmp_path / "reordered.csv"
    path.write_text(";".join(order) + "\n" + "\n".join(";".join(r) for r in rows) + "\n")

    imported = import_json(cli, path)

    assert imported["created"] == 1
    assert links_by_parent(cli) == {"R1": {"E1"}}


BAD_ROWS = [
    family_row("R1", "E1", born="31/02/2016"),  # line 2: impossible date
    family_row("R2", "E2", parent_given_name=""),  # line 3: missing field
    family_row("R3", "E3", school_uai="751234J"),  # line 4: bad UAI
    family_row("R4", "E4"),  # line 5: fine
    family_row("R4", "E5", parent_given_name="Paul"),  # line 6: same parent, another name
    family_row("R5", "E4", born="2016-02-15"),  # line 7: same child, another birth date
    None,  # line 8: written with commas in a semicolon file
    family_row("R7", "E7")[:6],  # line 9: too few fields
]
EXPECTED_PROBLEMS = [
    (2, "child_birthdate", "bad date"),
    (3, "parent_given_name", "missing field"),
    (4, "school_uai", "bad UAI"),
    (6, "parent_given_name", "duplicate parent R4 with conflicting data"),
    (7, "child_birthdate", "duplicate child E4 with conflicting data"),
    (8, None, "unknown separator"),
    (9, None, "6 fields instead of 10"),
]


def _bad_file(tmp_path: Path) -> Path:
    lines = [";".join(COLUMNS)]
    for row in BAD_ROWS:
        lines.append(",".join(family_row("R6", "E6")) if row is None else ";".join(row))
    path = tmp_path / "bad.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def test_bad_file_imports_nothing_and_lists_every_bad_row_as_json(cli: Cli, tmp_path: Path):
    result = cli.invoke("families", "import", str(_bad_file(tmp_path)), "--json")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["idp: 7 bad rows in bad.csv, nothing imported"]
    errors = json.loads(result.stdout)["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [p[:2] for p in EXPECTED_PROBLEMS]
    for error, (_, _, reason) in zip(errors, EXPECTED_PROBLEMS, strict=True):
        assert set(error) == {"line", "column", "reason"}
        assert reason in error["reason"]
    assert "on line 5" in errors[3]["reason"] and "14/02/2016" in errors[4]["reason"]
    assert (cli.count(Account), cli.count(Child), cli.count(School)) == (0, 0, 0)


def test_bad_file_lists_its_problems_on_stderr_for_people(cli: Cli, tmp_path: Path):
    done = cli("families", "import", str(_bad_file(tmp_path)))

    assert done.returncode == 1 and done.stdout == ""
    first, *problems = done.stderr.splitlines()
    assert first == "idp: 7 bad rows in bad.csv, nothing imported"
    assert problems[0] == "  line 2, child_birthdate: bad date '31/02/2016': no such day"
    assert len(problems) == 7 and "Traceback" not in done.stderr
    assert cli.count(Account) == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param("\t".join(COLUMNS).encode(), (1, None, "unknown separator"), id="tab"),
        pytest.param(
            ";".join(COLUMNS[:-1]).encode(), (1, "class_level", "missing column"), id="column"
        ),
        pytest.param(";".join(COLUMNS).encode(), (1, None, "no rows"), id="header-only"),
        pytest.param(
            (
                ";".join(COLUMNS)
                + "\n"
                + ";".join(family_row("R1", "E1", parent_family_name="Lefèvre"))
            ).encode("latin-1"),
            (2, None, "not UTF-8"),
            id="latin-1",
        ),
    ],
)
def test_unreadable_files_say_why(cli: Cli, tmp_path: Path, content: bytes, problem: tuple):
    path = tmp_path / "export.csv"
    path.write_bytes(content)

    result = cli.invoke("families", "import", str(path), "--json")

    assert result.exit_code == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert (error["line"], error["column"]) == problem[:2] and problem[2] in error["reason"]
    assert cli.count(Account) == 0


def test_formulas_and_invisible_characters_are_refused(cli: Cli, tmp_path: Path):
    rows = [
        family_row("R1", "E1", parent_family_name='=HYPERLINK("http://x.example")'),
        family_row("R2", "E2", child_given_name="Jules\u202eoaP"),  # right-to-left override
    ]

    result = cli.invoke("families", "import", str(write_export(tmp_path / "f.csv", rows)), "--json")

    errors = json.loads(result.stdout)["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [
        (2, "parent_family_name"),
        (3, "child_given_name"),
    ]
    assert "formula" in errors[0]["reason"] and "invisible" in errors[1]["reason"]


def test_credentials_file_has_the_contract_columns_and_only_new_accounts(cli: Cli, tmp_path: Path):
    credentials = tmp_path / "out" / "credentials.csv"
    credentials.parent.mkdir()
    imported = import_json(cli, SAMPLE, "--credentials", str(credentials))

    with credentials.open(newline="") as file:
        header, *rows = list(csv.reader(file))
    assert header == CREDENTIAL_COLUMNS
    expected = [
        [a["parent_ref"], a["identifier"], a["provisional_password"]] for a in imported["accounts"]
    ]
    assert [row[:3] for row in rows] == expected
    assert [rows[3][0], rows[3][3], rows[3][4]] == ["R0004", "Cœurdevey", "Françoise"]
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600  # passwords in clear: private
    assert list(credentials.parent.iterdir()) == [credentials]

    import_json(cli, SAMPLE, "--credentials", str(credentials))
    assert credentials.read_text().splitlines() == [",".join(CREDENTIAL_COLUMNS)]


def test_text_summary_and_a_warning_when_passwords_go_nowhere(cli: Cli):
    result = cli.invoke("families", "import", str(SAMPLE))

    assert result.exit_code == 0
    assert (
        "accounts: 8 created, 0 updated, 0 unchanged; links: 10 added, 0 removed" in result.stdout
    )
    assert "warning" in result.stderr and "idp accounts reset" in result.stderr
    for line in result.stdout.splitlines():
        assert not any(len(word) == 12 and set(word) <= set(UNAMBIGUOUS) for word in line.split())


def test_a_failure_while_writing_the_letters_imports_nothing_and_leaves_no_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken_printer(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("idp.cli.families.render", broken_printer)
    out = tmp_path / "out"
    out.mkdir()

    result = cli.invoke(
        "families",
        "import",
        str(SAMPLE),
        "--credentials",
        str(out / "c.csv"),
        "--letters",
        str(out / "l.pdf"),
    )

    assert "disk full" in assert_one_line_failure(result)
    assert (cli.count(Account), cli.count(Child), cli.count(Link)) == (0, 0, 0)
    assert list(out.iterdir()) == []


def test_an_output_in_a_missing_folder_is_refused_before_any_work(cli: Cli, tmp_path: Path):
    done = cli.invoke(
        "families", "import", str(SAMPLE), "--letters", str(tmp_path / "no" / "l.pdf")
    )

    assert "no folder" in assert_one_line_failure(done)
    assert cli.count(Account) == 0


def test_progress_of_a_long_file_goes_to_stderr_only(cli: Cli, tmp_path: Path):
    rows = [family_row(f"P{n:04d}", f"E{n:04d}") for n in range(1000)]
    path = write_export(tmp_path / "long.csv", rows)

    result = cli.invoke(
        "families", "import", str(path), "--json", IDP_PROVISIONAL_BCRYPT_ROUNDS="4"
    )

    assert result.exit_code == 0
    assert json.loads(result.stdout)["created"] == 1000
    assert "hashing passwords: 1000/1000" in result.stderr.splitlines()
    with cli.app():
        hashes = db.session.scalars(select(Account.password_hash)).all()
    assert len(set(hashes)) == 1000 and all(h.startswith("$2b$04$") for h in hashes)


def test_the_provisional_password_is_never_logged_nor_stored(
    cli: Cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement, its parameters
    letters = tmp_path / "letters.pdf"

    imported = import_json(
        cli, SAMPLE, "--letters", str(letters), "--credentials", str(tmp_path / "c.csv")
    )

    passwords = [item["provisional_password"] for item in imported["accounts"]]
    assert "INSERT INTO account" in caplog.text  # the capture did see the database work
    assert not [password for password in passwords if password in caplog.text]
    with cli.app():
        stored = " ".join(db.session.scalars(select(Account.password_hash)))
        stored += json.dumps([e.details for e in db.session.scalars(select(AuditEvent))])
    assert not [password for password in passwords if password in stored]


def test_hashing_on_every_core_gives_each_account_its_own_hash(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(Hashing, "THREADED_FROM", 1)

    imported = import_json(cli, SAMPLE)

    with cli.app():
        for item in imported["accounts"]:
            account = db.session.scalar(select(Account).filter_by(parent_ref=item["parent_ref"]))
            assert check_password(item["provisional_password"], account.password_hash)


# The same service on the suite's database (PostgreSQL in CI): bulk inserts with RETURNING,
# bulk updates by primary key, link removal.


def test_import_and_reimport_on_the_test_database(app, tmp_path: Path):
    export = read_export(SAMPLE.read_bytes(), SAMPLE.name)

    first = import_families(export)
    rows = sample_rows()
    rows = [row for row in rows if (row[0], row[3]) != ("R0002", "E1001")]
    rows[0][9] = "CM1"  # Noé's class, on the one row left for him (R0001's)
    second = import_families(
        read_export(write_export(tmp_path / "u.csv", rows).read_bytes(), "u.csv")
    )
    third = import_families(
        read_export(write_export(tmp_path / "u.csv", rows).read_bytes(), "u.csv")
    )

    assert (len(first.created), first.links_added) == (8, 10)
    assert (len(second.created), second.updated, second.unchanged) == (0, 2, 6)
    assert (second.links_removed, third.updated, third.unchanged) == (1, 0, 8)
    links = db.session.execute(
        select(Account.parent_ref, Child.ref).join(Link.account).join(Link.child)
    )
    assert ("R0002", "E1001") not in set(links)
    assert db.session.scalar(select(Child.class_level).filter_by(ref="E1001")) == "CM1"
    events = db.session.scalars(select(AuditEvent.event).filter_by(event="families_imported"))
    assert len(events.all()) == 3


def test_a_failed_import_leaves_the_test_database_as_it_was(app):
    export = read_export(SAMPLE.read_bytes(), SAMPLE.name)

    def undeliverable(result):
        raise OSError("printer on fire")

    with pytest.raises(OSError):
        import_families(export, undeliverable)

    assert db.session.scalar(select(Account.id).limit(1)) is None
    assert db.session.scalar(select(School.uai).limit(1)) is None
