"""Seed the benchmark's database: active parents with their children, and one teleservice.

Run with the same IDP_* environment as the provider, after `idp init`. Inserts in bulk (COPY on
PostgreSQL, batched INSERTs on SQLite; the rows get their ids here, so links need no read back),
so that a million parents take minutes, not hours. A quarter of
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

from sqlalchemy import func, insert, select, text

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


def _accounts(first_id: int, count: int, password_hash: str):
    for number in range(count):
        yield {
            "id": first_id + number,
            "public_id": random_id(),
            "identifier": f"bench.{number:07d}",
            "given_name": "Camille",
            "family_name": f"Parent{number}",
            "password_hash": password_hash,
            "status": ACTIVE,
            "email": f"parent{number}@bench.example",
            "email_verified": True,
        }


def _children(first_id: int, count: int):
    for number in range(count):
        for rank in range(2):  # two children a family
            yield {
                "id": first_id + 2 * number + rank,
                "ref": f"B{number:07d}{rank}",
                "given_name": f"Enfant{rank}",
                "family_name": f"Parent{number}",
                "birthdate": date(2016 + rank, 1 + number % 12, 1 + number % 28),
                "school_uai": f"{9700000 + number % SCHOOLS:07d}B",
                "class_level": "CE1",
            }


def _links(first_account: int, first_child: int, count: int):
    for number in range(count):
        for rank in range(2):
            yield {
                "account_id": first_account + number,
                "child_id": first_child + 2 * number + rank,
            }


def _live_sessions(first_account: int, count: int, step: int):
    for account_id in range(first_account, first_account + count, step):
        yield {"id": random_id(), "token_hash": secrets.token_hex(32), "account_id": account_id}


def _live_tokens(first_account: int, count: int, step: int, client_id: str):
    """Token rows for the parents signed in, as on a school-day morning."""
    now = int(time.time())
    for number, account_id in enumerate(range(first_account, first_account + count, step)):
        yield {
            "client_id": client_id,
            "account_id": account_id,
            "family": f"seed-{number}",
            "token_type": "Bearer",
            "access_token": secrets.token_hex(32),
            "refresh_token": secrets.token_hex(32),
            "refresh_expires_at": now + 86400,
            "scope": "openid profile children",
            "expires_in": 3600,
            "issued_at": now,
        }


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _python_defaults(table) -> dict:
    """What the ORM would fill in for the columns a row leaves out (COPY applies no Python
    default): computed once, so only for columns that are neither unique nor keys."""
    values = {}
    for column in table.columns:
        default = column.default
        if default is None or column.primary_key or column.unique:
            continue
        values[column.name] = default.arg(None) if default.is_callable else default.arg
    return values


def _bulk(model, rows) -> int:
    """Insert rows in bulk: COPY on PostgreSQL (a million parents in about a minute), batched
    multi-row INSERTs elsewhere. Returns the number of rows."""
    table = model.__table__
    defaults = _python_defaults(table)
    count = 0
    connection = db.session.connection()
    for batch in _batches(rows):
        names = list(batch[0]) + [name for name in defaults if name not in batch[0]]
        if connection.dialect.name == "postgresql":
            with connection.connection.cursor() as cursor:
                columns = ", ".join(names)
                with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row([row.get(name, defaults.get(name)) for name in names])
        else:
            db.session.execute(insert(table), [{**defaults, **row} for row in batch])
        count += len(batch)
    return count


def _reset_sequences(*models) -> None:
    """Rows were given their ids: move PostgreSQL's sequences past them."""
    if db.session.connection().dialect.name != "postgresql":
        return
    for model in models:
        name = model.__tablename__  # our own table names, never input
        statement = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {name}))"  # noqa: E501, S608
        db.session.execute(text(statement))


def seed(accounts: int, live_fraction: float = 0.25) -> dict:
    client, secret = register_client("Banc d'essai", redirect_uris=[REDIRECT_URI])
    schools = [
        {"uai": f"{9700000 + n:07d}B", "name": f"École de banc d'essai {n}"} for n in range(SCHOOLS)
    ]
    db.session.execute(insert(School), schools)
    password_hash = hash_password(PASSWORD)  # at IDP_BCRYPT_ROUNDS, once for every account
    first_account, first_child = _next_id(Account), _next_id(Child)
    steps = [
        ("parents", Account, _accounts(first_account, accounts, password_hash)),
        ("children", Child, _children(first_child, accounts)),
        ("links", Link, _links(first_account, first_child, accounts)),
    ]
    step = max(1, round(1 / live_fraction)) if live_fraction > 0 else 0
    if step:  # a share of the parents signed in, with a live token
        steps.append(
            ("sign-in sessions", LoginSession, _live_sessions(first_account, accounts, step))
        )
        tokens = _live_tokens(first_account, accounts, step, client.client_id)
        steps.append(("tokens", Token, tokens))
    for label, model, rows in steps:
        started = time.monotonic()
        count = _bulk(model, rows)
        print(
            f"  {count:,} {label} in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    _reset_sequences(Account, Child, Link, Token)
    db.session.commit()
    if db.session.connection().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))  # the planner's statistics, as in production
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
