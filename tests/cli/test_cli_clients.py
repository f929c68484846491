"""An operator registers the teleservices from a script (`idp clients`, docs/contract.md §2).

They add a teleservice and keep the secret printed once, list and show registrations (which never
reveal a secret), rotate a leaked secret (the old one stops working at once) and remove a
teleservice. Bad input is refused with one `idp: …` line on stderr and registers nothing.
"""

from __future__ import annotations

import pytest

from idp.models import Client
from tests.cli.harness import Cli, assert_one_line_failure

CALLBACK = "https://lsu.example.org/callback"


def _add(cli: Cli, *options: str) -> dict:
    """Register a teleservice in-process; returns the `--json` document."""
    return cli.invoke_json("clients", "add", "--name", "LSU", "--redirect-uri", CALLBACK, *options)


def _stored(cli: Cli, client_id: str) -> Client | None:
    """The registration as stored (detached: read its columns, don't check secrets with it)."""
    with cli.app():
        return Client.query.filter_by(client_id=client_id).one_or_none()


def test_add_prints_the_credentials_once_as_json(cli: Cli):
    added = cli.json("clients", "add", "--name", "LSU", "--redirect-uri", CALLBACK)

    assert added["client_id"] and added["client_secret"]
    assert added["redirect_uris"] == [CALLBACK]
    assert added["scope"] == "openid profile email children"
    with cli.app():
        client = Client.query.filter_by(client_id=added["client_id"]).one()
        assert client.client_secret != added["client_secret"]  # stored hashed
        assert client.check_client_secret(added["client_secret"])


def test_public_client_gets_no_secret(cli: Cli):
    added = _add(cli, "--auth-method", "none")

    assert "client_secret" not in added
    assert _stored(cli, added["client_id"]).is_public


def test_add_with_every_option(cli: Cli):
    second = "http://localhost:8080/callback"
    added = _add(
        cli,
        "--redirect-uri",
        second,
        "--subject-type",
        "pairwise",
        "--post-logout-redirect-uri",
        "https://lsu.example.org/",
        "--scope",
        "openid children",
        "--auth-method",
        "client_secret_post",
    )

    assert added["redirect_uris"] == [CALLBACK, second]
    assert added["subject_type"] == "pairwise"
    assert added["post_logout_redirect_uris"] == ["https://lsu.example.org/"]
    assert added["scope"] == "openid children"
    client = _stored(cli, added["client_id"])
    assert client.subject_type == "pairwise"
    assert client.redirect_uris == [CALLBACK, second]
    assert client.token_endpoint_auth_method == "client_secret_post"


def test_list_and_show_never_reveal_a_secret(cli: Cli):
    first, second = _add(cli), _add(cli, "--name", "ENT")

    listed = cli("clients", "list", "--json")
    shown = cli("clients", "show", first["client_id"], "--json")

    listed_documents, shown_document = Cli.loads(listed), Cli.loads(shown)
    assert [c["client_id"] for c in listed_documents] == [first["client_id"], second["client_id"]]
    assert shown_document["client_id"] == first["client_id"]
    assert shown_document["redirect_uris"] == [CALLBACK]
    assert not any("client_secret" in c for c in [*listed_documents, shown_document])
    stored_hash = _stored(cli, first["client_id"]).client_secret
    for secret in (first["client_secret"], second["client_secret"], stored_hash):
        assert secret not in listed.stdout + shown.stdout


def test_rotate_secret_gives_a_new_secret_and_the_old_one_stops_working(cli: Cli):
    added = _add(cli)

    rotated = cli.json("clients", "rotate-secret", added["client_id"])

    assert rotated["client_id"] == added["client_id"]
    assert rotated["client_secret"] != added["client_secret"]
    with cli.app():
        client = Client.query.filter_by(client_id=added["client_id"]).one()
        assert client.check_client_secret(rotated["client_secret"])
        assert not client.check_client_secret(added["client_secret"])


def test_rotate_secret_of_a_public_client_is_refused(cli: Cli):
    added = _add(cli, "--auth-method", "none")

    assert_one_line_failure(cli.invoke("clients", "rotate-secret", added["client_id"]))


def test_removed_client_is_gone(cli: Cli):
    added = _add(cli)

    removed = cli.invoke("clients", "remove", added["client_id"])
    shown = cli("clients", "show", added["client_id"], "--json")

    assert removed.exit_code == 0
    assert shown.returncode == 1
    assert added["client_id"] in assert_one_line_failure(shown)
    assert _stored(cli, added["client_id"]) is None


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(["--redirect-uri", f"{CALLBACK}#here"], id="fragment"),
        pytest.param(["--redirect-uri", "http://lsu.example.org/callback"], id="http"),
        pytest.param(["--redirect-uri", CALLBACK, "--scope", "openid grades"], id="scope"),
        pytest.param(["--redirect-uri", CALLBACK, "--auth-method", "private_key_jwt"], id="pkjwt"),
        pytest.param([], id="no-redirect-uri"),
    ],
)
def test_bad_registration_is_one_line_and_registers_nothing(cli: Cli, options: list[str]):
    assert_one_line_failure(cli("clients", "add", "--name", "LSU", *options, "--json"))

    assert cli.count(Client) == 0


@pytest.mark.parametrize(
    "options",
    [
        ["--post-logout-redirect-uri", "https://lsu.example.org/#bye"],
        ["--initiate-login-uri", "http://lsu.example.org/login"],
        ["--backchannel-logout-uri", "ftp://lsu.example.org/logout"],
        ["--scope", "profile email"],  # no openid
        ["--redirect-uri", "/relative/callback"],
        ["--name", "  "],
    ],
)
def test_other_bad_registrations_are_refused_the_same_way(cli: Cli, options: list[str]):
    args = ["clients", "add", "--name", "LSU", "--redirect-uri", CALLBACK, *options, "--json"]

    assert_one_line_failure(cli.invoke(*args))

    assert cli.count(Client) == 0


def test_unknown_client_is_one_line(cli: Cli):
    for command in ("show", "remove", "rotate-secret"):
        assert "nobody" in assert_one_line_failure(cli.invoke("clients", command, "nobody"))


def test_client_ids_never_look_like_an_option(cli: Cli):
    # A client id starting with "-" made `idp clients show -oXyz…` fail as an unknown option.
    from idp.passwords import new_secret

    assert all(new_secret(18)[0].isalnum() for _ in range(5000))
    added = _add(cli)
    assert cli.invoke("clients", "show", added["client_id"]).exit_code == 0
