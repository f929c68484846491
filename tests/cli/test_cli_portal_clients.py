"""An operator registers a teleservice for the portal (contract §2): the schools it serves, what
the portal says of it, its child page and its back-channel logout URI; bad values are refused in
one line and register nothing."""

from __future__ import annotations

from idp.models import Client
from tests.cli.harness import Cli, assert_one_line_failure

CALLBACK = "https://cantine.example.org/callback"
BASE = ("clients", "add", "--name", "Cantine", "--redirect-uri", CALLBACK)


def test_add_a_teleservice_for_the_portal(cli: Cli):
    added = cli.json(
        *BASE,
        "--initiate-login-uri",
        "https://cantine.example.org/connexion",
        "--child-page-uri",
        "https://cantine.example.org/enfant/{child}",
        "--school",
        "0751234J",
        "--school",
        "0759876k",
        "--description",
        "Payer les repas  de la cantine.",
        "--backchannel-logout-uri",
        "https://cantine.example.org/backchannel",
        "--subject-type",
        "pairwise",
    )
    assert added["schools"] == ["0751234J", "0759876K"]
    assert added["description"] == "Payer les repas de la cantine."
    assert added["child_page_uri"] == "https://cantine.example.org/enfant/{child}"
    assert added["backchannel_logout_uri"] == "https://cantine.example.org/backchannel"
    shown = cli.invoke_json("clients", "show", added["client_id"])
    assert shown["schools"] == ["0751234J", "0759876K"]


def test_without_school_it_serves_every_school(cli: Cli):
    added = cli.invoke_json(*BASE)
    assert "schools" not in added
    with cli.app():
        assert Client.query.filter_by(client_id=added["client_id"]).one().serves("0751234J")


def test_bad_portal_options_are_refused_in_one_line(cli: Cli):
    for options in (
        ("--school", "75"),
        ("--child-page-uri", "https://cantine.example.org/enfant"),  # no {child}
        ("--child-page-uri", "http://cantine.example.org/enfant/{child}"),  # not https
        ("--description", "x" * 301),
        ("--backchannel-logout-uri", "ftp://cantine.example.org/bc"),
    ):
        line = assert_one_line_failure(cli.invoke(*BASE, *options))
        assert options[0].strip("-").split("-")[0] in line.lower() or "uri" in line.lower()
    with cli.app():
        assert Client.query.count() == 0
