"""`idp demo`: a school, two families and the demo LSU teleservice, in a known state.

Run it again and it puts them back as they were (passwords, statuses, LSU secret).
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from idp import bootstrap
from idp.cli import emit, json_option, with_app
from idp.extensions import db
from idp.models import Account, Client
from idp.models.accounts import ACTIVE, PROVISIONAL
from idp.oidc.clients import registry
from idp.passwords import hash_password
from idp.provisioning import accounts

SCHOOL = ("0751234J", "École élémentaire Jules-Ferry")
COLLEGE = ("0759876K", "Collège Victor-Hugo")
FAMILIES = [
    {
        "identifier": "a.lefevre10",
        "parent_ref": "R0001",  # as in tests/data/export-ecole-exemple.csv
        "password": "Cartable-Bleu-2026",
        "status": ACTIVE,
        "email": "anais.lefevre@example.org",
        "parent": ("Anaïs", "Lefèvre"),
        "children": [
            ("E1001", "Noé", "Lefèvre", date(2016, 2, 14), "CE2"),
            ("E1002", "Inès", "Lefèvre", date(2018, 9, 3), "CP"),
            ("E2003", "Léo", "Lefèvre", date(2013, 5, 21), "6e", COLLEGE),
        ],
    },
    {
        "identifier": "m.dupont20",
        "parent_ref": "R0007",
        "password": "Rentree-2026",
        "status": PROVISIONAL,
        "email": None,
        "parent": ("Marie", "Dupont"),
        "children": [("E1007", "Zoé", "Durand", date(2016, 2, 29), "CE2")],
    },
]
LSU_CLIENT_ID = "lsu-demo"
CANTEEN_CLIENT_ID = "canteen-demo"


def _seed_family(family: dict) -> Account:
    """The family as the demo wants it; known by identifier, or by the school's parent_ref when
    the sample export was imported first (the demo then takes that account over)."""
    account = db.session.scalar(select(Account).filter_by(identifier=family["identifier"]))
    if account is None:
        account = db.session.scalar(select(Account).filter_by(parent_ref=family["parent_ref"]))
    if account is None:
        specs = [
            accounts.ChildSpec(given, fam, born, school[0], level, school[1], ref)
            for ref, given, fam, born, level, *other in family["children"]
            for school in [other[0] if other else SCHOOL]
        ]
        existing = [ref for ref, *_ in family["children"] if accounts.find_child(ref)]
        if existing:
            raise accounts.ProvisioningError(f"demo children {existing} exist outside the demo")
        account, _ = accounts.create_account(*family["parent"], specs)
    account.identifier = family["identifier"]
    holder = db.session.scalar(select(Account.id).filter_by(parent_ref=family["parent_ref"]))
    if holder in (None, account.id):  # an older demo's account may stand beside an import's
        account.parent_ref = family["parent_ref"]
    account.password_hash = hash_password(family["password"])
    account.status = family["status"]
    account.email = family["email"]
    account.email_verified = family["email"] is not None
    account.locked_reason = None
    # A reset demo starts with clean counters: no delay or lock left from an earlier try.
    account.failed_logins = 0
    account.next_login_at = None
    account.failure_window_start = None
    account.failures_in_window = 0
    account.activation_failures = 0
    db.session.commit()
    return account


def _register(client_id: str, name: str, public_url: str, **options) -> tuple[Client, str]:
    """The demo teleservice as `make run` serves it: on the portal, with a page per child,
    RP-initiated and back-channel logout."""
    if db.session.scalar(select(Client).filter_by(client_id=client_id)) is not None:
        registry.remove_client(client_id)
    client, secret = registry.register_client(
        name,
        [f"{public_url}/callback"],
        post_logout_redirect_uris=[f"{public_url}/"],
        initiate_login_uri=f"{public_url}/login",
        child_page_uri=f"{public_url}/enfant/{{child}}",
        backchannel_logout_uri=f"{public_url}/backchannel-logout",
        client_id=client_id,
        **options,
    )
    return client, secret


def _register_lsu(public_url: str) -> tuple[Client, str]:
    return _register(
        LSU_CLIENT_ID,
        "Livret scolaire unique (démonstration)",
        public_url,
        description="Les bilans périodiques et les appréciations des enseignants.",
    )


def _register_canteen(public_url: str) -> tuple[Client, str]:
    """Pairwise and limited to the école: the collégien's section does not offer it."""
    return _register(
        CANTEEN_CLIENT_ID,
        "Cantine scolaire (démonstration)",
        public_url,
        scope="openid profile children",
        subject_type="pairwise",
        schools=[SCHOOL[0]],
        description="Le solde du compte cantine et les menus de la semaine.",
    )


def _write_client_file(path_text: str | None, client: Client, secret: str) -> None:
    if not path_text:
        return
    path = Path(path_text)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump({"client_id": client.client_id, "client_secret": secret}, file)


def _empty_outbox(app: Flask) -> None:
    """The mails of an earlier demo (instance/outbox/*.eml) would mislead: their links are dead."""
    outbox = Path(app.instance_path) / "outbox"
    for path in outbox.glob("*.eml"):
        path.unlink()


@click.command("demo")
@click.option("--lsu-url", default="http://127.0.0.1:5001", show_default=True)
@click.option("--lsu-client-file", type=click.Path(dir_okay=False), help="Write LSU credentials.")
@click.option("--canteen-url", default="http://127.0.0.1:5002", show_default=True)
@click.option("--canteen-client-file", type=click.Path(dir_okay=False), help="Its credentials.")
@json_option
@with_app
def demo(
    app: Flask,
    lsu_url: str,
    lsu_client_file: str | None,
    canteen_url: str,
    canteen_client_file: str | None,
    as_json: bool,
) -> None:
    """init, then a demo school, families and two teleservices; prints their credentials."""
    bootstrap.upgrade_schema()
    bootstrap.ensure_signing_keys(app)
    _empty_outbox(app)
    families = [_seed_family(family) for family in FAMILIES]
    teleservices = {}
    for key, url, register, path in (
        ("lsu", lsu_url, _register_lsu, lsu_client_file),
        ("canteen", canteen_url, _register_canteen, canteen_client_file),
    ):
        client, secret = register(url.rstrip("/"))
        _write_client_file(path, client, secret)
        teleservices[key] = {"client_id": client.client_id, "client_secret": secret, "url": url}
    document = {
        "issuer": app.config["ISSUER"],
        **teleservices,
        "families": [
            {"identifier": a.identifier, "password": f["password"], "status": a.status}
            for a, f in zip(families, FAMILIES, strict=True)
        ],
    }
    text = "\n".join(
        [f"Provider: {app.config['ISSUER']}   LSU demo: {lsu_url}   Canteen demo: {canteen_url}"]
        + [
            f"  {a.identifier} / {f['password']}  ({a.status}: {a.name}, "
            f"{', '.join(c.given_name for c in a.children)})"
            for a, f in zip(families, FAMILIES, strict=True)
        ]
    )
    emit(as_json, document, text)
