"""Seed the benchmark's database: active parents with their children, and one teleservice.

Run with the same IDP_* environment as the provider, after `idp init`. Inserts in bulk (one
statement per table and batch), so that large populations take minutes, not hours. A quarter of
the parents (``--live-fraction``) also get a live sign-in session and a live token row. Prints one
JSON document: the client's id and secret, the redirect URI and the sign-in identifiers.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from datetime import date
from itertools import islice

from sqlalchemy import insert, select

from idp import create_app
from idp.extensions import db
from idp.models import Account, Child, Link, LoginSession, School, Token
from idp.models.accounts import ACTIVE
from idp.models.base import random_id
from idp.oidc.clients.registry import register_client
from idp.passwords import hash_password

PASSWORD = "Cartable-Bleu-2026"  # noqa: S105 (the benchmark's accounts only)
REDIRECT_URI = "http://127.0.0.1:8080/cb"
BATCH = 5000
SCHOOLS = 50


def _batches(rows, size: int = BATCH):
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _accounts(count: int, password_hash: str):
    for number in range(count):
        yield {
            "public_id": random_id(),
            "identifier": f"bench.{number:07d}",
            "given_name": "Camille",
            "family_name": f"Parent{number}",
            "password_hash": password_hash,
            "status": ACTIVE,
            "email": f"parent{number}@bench.example",
            "email_verified": True,
        }


def _children(count: int):
    for number in range(count):
        for rank in range(2):  # two children a family
            yield {
                "ref": f"B{number:07d}{rank}",
                "given_name": f"Enfant{rank}",
                "family_name": f"Parent{number}",
                "birthdate": date(2016 + rank, 1 + number % 12, 1 + number % 28),
                "school_uai": f"{9700000 + number % SCHOOLS:07d}B",
                "class_level": "CE1",
            }


def _live_rows(account_ids: list[int], client_id: str, fraction: float):
    """Sign-in sessions and token rows for a share of the parents, as on a school-day morning."""
    now = int(time.time())
    step = max(1, round(1 / fraction)) if fraction > 0 else 0
    for number, account_id in enumerate(account_ids[::step] if step else []):
        session = {"token_hash": secrets.token_hex(32), "account_id": account_id}
        token = {
            "client_id": client_id,
            "account_id": account_id,
            "family": f"seed-{number}",
            "token_type": "Bearer",
            "access_token": secrets.token_hex(32),
            "refresh_token": secrets.token_hex(32),
            "refresh_expires_at": now + 86400,
            "scope": "openid profile children",
            "expires_in": 3600,
        }
        yield session, token


def seed(accounts: int, live_fraction: float = 0.25) -> dict:
    client, secret = register_client("Banc d'essai", redirect_uris=[REDIRECT_URI])
    schools = [
        {"uai": f"{9700000 + n:07d}B", "name": f"École de banc d'essai {n}"} for n in range(SCHOOLS)
    ]
    db.session.execute(insert(School), schools)
    password_hash = hash_password(PASSWORD)  # at IDP_BCRYPT_ROUNDS, once for every account
    for batch in _batches(_accounts(accounts, password_hash)):
        db.session.execute(insert(Account), batch)
    for batch in _batches(_children(accounts)):
        db.session.execute(insert(Child), batch)
    account_ids = dict(db.session.execute(select(Account.identifier, Account.id)).all())
    child_ids = dict(db.session.execute(select(Child.ref, Child.id)).all())
    links = (
        {"account_id": account_ids[f"bench.{n:07d}"], "child_id": child_ids[f"B{n:07d}{rank}"]}
        for n in range(accounts)
        for rank in range(2)
    )
    for batch in _batches(links):
        db.session.execute(insert(Link), batch)
    live = _live_rows(sorted(account_ids.values()), client.client_id, live_fraction)
    for batch in _batches(live):
        db.session.execute(insert(LoginSession), [session for session, _ in batch])
        db.session.execute(insert(Token), [token for _, token in batch])
    db.session.commit()
    return {
        "client_id": client.client_id,
        "client_secret": secret,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile children",
        "password": PASSWORD,
        "identifiers": [f"bench.{n:07d}" for n in range(min(accounts, 64))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--live-fraction", type=float, default=0.25, help="parents signed in")
    options = parser.parse_args()
    app = create_app()
    with app.app_context():
        json.dump(seed(options.accounts, options.live_fraction), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
