"""An operator installs the provider and scripts its command line (docs/contract.md §1 and §2).

They run `idp init` on an empty database (twice, from a deployment script), rotate the signing
keys, seed the demo, and get their configuration or database URL wrong. Whatever happens, a
script reading the output can rely on it: exit 0 on success and non-zero on failure, exactly one
JSON document on stdout with `--json`, and on failure a single `idp: …` line on stderr, never a
traceback. Clients and accounts are in test_cli_clients.py and test_cli_accounts.py.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from idp.models import Account, Child, Client, School
from idp.oidc.keys import KeyStore
from idp.passwords import check_password
from tests.cli.harness import Cli, assert_one_line_failure
from tests.parent import Parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_the_schema_and_one_private_key_per_algorithm(fresh: Cli):
    done = fresh("init")

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert fresh.count(Account) == 0  # the tables exist
    keys = fresh.key_files()
    assert sorted(path.name.rsplit("-", 1)[1] for path in keys) == ["es256.pem", "rs256.pem"]
    assert all(_mode(path) == 0o600 for path in keys)
    loaded = {path.name[-9:-4]: load_pem_private_key(path.read_bytes(), None) for path in keys}
    assert isinstance(loaded["rs256"], rsa.RSAPrivateKey)
    assert isinstance(loaded["es256"], ec.EllipticCurvePrivateKey)
    assert loaded["es256"].curve.name == "secp256r1"


def test_init_run_again_changes_nothing(cli: Cli):
    before = {path.name: path.read_bytes() for path in cli.key_files()}

    done = cli("init")

    assert done.returncode == 0, done.stderr
    assert {path.name: path.read_bytes() for path in cli.key_files()} == before
    assert cli.count(Account) == 0


def test_keys_rotate_signs_with_new_keys_and_keeps_the_old_ones_published(cli: Cli):
    old_kids = {key["kid"] for key in KeyStore(cli.keys_dir).public_jwks()["keys"]}

    rotated = cli.json("keys", "rotate")

    new_kids = set(rotated["signing_kids"])
    assert len(new_kids) == 2 and not new_kids & old_kids
    assert set(rotated["published_kids"]) == old_kids | new_kids
    store = KeyStore(cli.keys_dir)
    assert {store.signing_key(alg)["kid"] for alg in ("RS256", "ES256")} == new_kids
    assert len(cli.key_files()) == 4
    assert all(_mode(path) == 0o600 for path in cli.key_files())


def test_demo_prints_one_document_and_running_it_again_duplicates_nothing(fresh: Cli):
    first = fresh.json("demo")
    second = fresh.json("demo")

    for document in (first, second):
        assert document["lsu"]["client_id"] == "lsu-demo"
        assert [f["identifier"] for f in document["families"]] == ["a.lefevre10", "m.dupont20"]
    listed = fresh.json("clients", "list")
    assert [c["client_id"] for c in listed] == ["lsu-demo", "canteen-demo"]
    assert listed[1]["schools"] == ["0751234J"] and listed[1]["subject_type"] == "pairwise"
    assert fresh.count(Account) == 2
    assert fresh.count(Child) == 4
    assert fresh.count(School) == 2
    with fresh.app():
        lsu = Client.query.filter_by(client_id="lsu-demo").one()
        assert lsu.check_client_secret(second["lsu"]["client_secret"])


def test_demo_active_family_signs_in_with_the_printed_password(cli: Cli):
    demo = cli.invoke_json("demo")
    family = next(f for f in demo["families"] if f["status"] == "active")

    with cli.app() as app:
        account = Account.query.filter_by(identifier=family["identifier"]).one()
        assert check_password(family["password"], account.password_hash)
        parent = Parent(app.test_client())
        refused = parent.sign_in(family["identifier"], "not-the-password")
        signed_in = parent.sign_in(family["identifier"], family["password"])

        assert refused.status_code == 401 and refused.alert_ids == ["login.failed"]
    assert signed_in.status_code == 302


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IDP_CODE_TTL", "abc"),
        ("IDP_UNKNOWN_THING", "1"),
        ("IDP_ISSUER", "not-a-url"),
        ("IDP_BCRYPT_ROUNDS", "99"),
    ],
)
def test_configuration_error_stops_init_with_one_line_naming_the_variable(
    fresh: Cli, variable: str, value: str
):
    line = assert_one_line_failure(fresh("init", **{variable: value}))

    assert variable in line
    assert not fresh.database.exists() and not fresh.keys_dir.exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IDP_SMTP_URL", "smtp://mail.example.org:port"),
        ("IDP_REDIS_URL", "http://redis.example.org"),
        ("IDP_SESSION_IDLE_TTL", "50000"),  # longer than the absolute lifetime
        ("IDP_ACCESS_TOKEN_TTL", "0"),
        ("IDP_SECRET_KEY", "  "),
        ("IDP_ISSUER", "https://idp.example.org/?tenant=1"),
        ("IDP_ISSUER", "https://idp.example.org/#top"),
        ("IDP_ISSUER", "https://idp.example.org:99999"),
        ("IDP_MAIL_FROM", "not an address"),
        (
            "IDP_DATABASE_URL",
            "postgres://idp@db.example.org/idp",
        ),  # the scheme SQLAlchemy no longer knows
        ("IDP_DATABASE_URL", "postgresql+psycopg://idp@db.example.org:port/idp"),
    ],
)
def test_other_malformed_settings_are_refused_the_same_way(fresh: Cli, variable: str, value: str):
    line = assert_one_line_failure(fresh.invoke("init", **{variable: value}))

    assert variable in line


def test_idp_test_variables_are_tolerated(fresh: Cli):
    assert fresh.invoke("init", IDP_TEST_WHATEVER="1").exit_code == 0


def test_unreachable_database_is_one_line_without_the_password(fresh: Cli):
    url = "postgresql+psycopg://nobody:s3cret-pw@127.0.0.1:1/x"

    line = assert_one_line_failure(fresh("init", IDP_DATABASE_URL=url))

    assert "s3cret-pw" not in line


@pytest.mark.parametrize(
    ("args", "listed"),
    [
        (["--help"], ["init", "serve", "demo", "clients", "accounts", "keys"]),
        (["clients", "--help"], ["add", "list", "show", "remove", "rotate-secret"]),
    ],
)
def test_help(fresh: Cli, args: list[str], listed: list[str]):
    done = fresh(*args)

    assert done.returncode == 0
    assert done.stdout.startswith("Usage: idp")
    assert all(f"  {command} " in done.stdout for command in listed)


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["keys", "rotate", "--jsn"],
        [
            "clients",
            "add",
            "--name",
            "N",
            "--redirect-uri",
            "https://a.example/cb",
            "--auth-method",
        ],
    ],
)
def test_usage_errors_are_one_line_too(fresh: Cli, args: list[str]):
    assert_one_line_failure(fresh.invoke(*args))


def test_serve_refuses_several_workers_without_redis(cli: Cli):
    """Throttling counters live in process memory without Redis: several workers would each
    count apart (issue 10 §8), so `idp serve` refuses to start them."""
    line = assert_one_line_failure(cli("serve", "--port", "1", "--workers", "2"))
    assert "IDP_REDIS_URL" in line and "--workers" in line
