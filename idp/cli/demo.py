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


def _seed_family(family: dict) -> Account:
    """The family as the demo wants it; known by identifier, or by the school's parent_ref when
    the sample export was imported first (the demo then takes that account over)."""
    account = db.session.scalar(select(Account).filter_by(identifier=family["identifier"]))
    if account is None:
        account = db.session.scalar(select(Account).filter_by(parent_ref=family["parent_ref"]))
    if account is None:
        specs = [
            accounts.ChildSpec(given, fam, born, SCHOOL[0], level, SCHOOL[1], ref)
            for ref, given, fam, born, level in family["children"]
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


def _register_lsu(public_url: str) -> tuple[Client, str]:
    existing = db.session.scalar(select(Client).filter_by(client_id=LSU_CLIENT_ID))
    if existing is not None:
        registry.remove_client(LSU_CLIENT_ID)
    client, secret = registry.register_client(
        "Livret scolaire unique (démonstration)",
        [f"{public_url}/callback"],
        post_logout_redirect_uris=[f"{public_url}/"],
        initiate_login_uri=f"{public_url}/login",
        client_id=LSU_CLIENT_ID,
    )
    return client, secret


def _empty_outbox(app: Flask) -> None:
    """The mails of an earlier demo (instance/outbox/*.eml) would mislead: their links are dead."""
    outbox = Path(app.instance_path) / "outbox"
    for path in outbox.glob("*.eml"):
        path.unlink()


@click.command("demo")
@click.option("--lsu-url", default="http://127.0.0.1:5001", show_default=True)
@click.option("--lsu-client-file", type=click.Path(dir_okay=False), help="Write LSU credentials.")
@json_option
@with_app
def demo(app: Flask, lsu_url: str, lsu_client_file: str | None, as_json: bool) -> None:
    """init, then a demo school, families and the LSU teleservice; prints their credentials."""
    bootstrap.upgrade_schema()
    bootstrap.ensure_signing_keys(app)
    _empty_outbox(app)
    families = [_seed_family(family) for family in FAMILIES]
    client, secret = _register_lsu(lsu_url.rstrip("/"))
    lsu = {"client_id": client.client_id, "client_secret": secret, "url": lsu_url}
    if lsu_client_file:
        path = Path(lsu_client_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump({"client_id": client.client_id, "client_secret": secret}, file)
    document = {
        "issuer": app.config["ISSUER"],
        "lsu": lsu,
        "families": [
            {"identifier": a.identifier, "password": f["password"], "status": a.status}
            for a, f in zip(families, FAMILIES, strict=True)
        ],
    }
    text = "\n".join(
        [f"Provider: {app.config['ISSUER']}   LSU demo: {lsu_url}"]
        + [
            f"  {a.identifier} / {f['password']}  ({a.status}: {a.name}, "
            f"{', '.join(c.given_name for c in a.children)})"
            for a, f in zip(families, FAMILIES, strict=True)
        ]
    )
    emit(as_json, document, text)
