"""New sign-in credentials in bulk: identifiers, provisional passwords and their hashes.

A school export brings hundreds or thousands of new parents at once. Identifiers are checked
against the database a batch at a time, not one query each; provisional passwords are hashed at
the provisional bcrypt cost on every core (bcrypt releases the GIL, so threads are enough: on this
2-core machine they match a process pool and need no pickling, no fork of a Flask app).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account
from idp.passwords import hash_password
from idp.provisioning import ProgressCallback
from idp.provisioning.accounts import identifier_candidate, identifier_stem

CREDENTIAL_COLUMNS = (
    "parent_ref",
    "identifier",
    "provisional_password",
    "family_name",
    "given_name",
)
CHUNK = 500  # keys per IN (…) query, and passwords per hashing task


@dataclass(frozen=True)
class Credential:
    """What one new parent needs to sign in the first time; the password exists only here."""

    parent_ref: str | None
    identifier: str
    password: str = field(repr=False)  # never in a repr, whatever prints one
    family_name: str
    given_name: str
    expires_at: datetime


def chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def taken_identifiers(candidates: Iterable[str]) -> set[str]:
    """Which of these identifiers already belong to an account."""
    taken: set[str] = set()
    for chunk in chunks(list(candidates)):
        taken.update(
            db.session.scalars(select(Account.identifier).where(Account.identifier.in_(chunk)))
        )
    return taken


def allocate_identifiers(names: list[tuple[str, str]]) -> list[str]:
    """One new, distinct identifier per (given name, family name), a few queries in all.

    Each round draws a candidate for every parent still without one (more digits as the tries
    go, as `new_identifier` does), drops those drawn twice in the batch, and asks the database
    which of the rest are taken: one query per 500 candidates.
    """
    stems = [identifier_stem(given, family) for given, family in names]
    chosen: list[str | None] = [None] * len(names)
    attempt = 0
    pending = list(range(len(names)))
    while pending:
        drawn: dict[str, int] = {}
        for index in pending:
            candidate = identifier_candidate(stems[index], attempt)
            drawn.setdefault(candidate, index)
        taken = taken_identifiers(drawn)
        in_use = set(filter(None, chosen))
        for candidate, index in drawn.items():
            if candidate not in taken and candidate not in in_use:
                chosen[index] = candidate
        pending = [index for index in pending if chosen[index] is None]
        attempt += 1
    return [identifier for identifier in chosen if identifier is not None]


def _hash_chunk(passwords: list[str], rounds: int) -> list[str]:
    return [hash_password(password, rounds) for password in passwords]


class Hashing:
    """Provisional passwords being hashed in the background, on every core.

    Started before the letters are drawn and collected after, so that bcrypt (which releases
    the GIL) and the PDF (pure Python) share the machine: the import costs about the larger of
    the two, not their sum. A few passwords are hashed in place.
    """

    THREADED_FROM = 64

    def __init__(self, passwords: list[str]) -> None:
        self.rounds = current_app.config["PROVISIONAL_BCRYPT_ROUNDS"]
        self.count = len(passwords)
        self.pool: ThreadPoolExecutor | None = None
        self.futures: list[Future[list[str]]] = []
        self.passwords = passwords
        if self.count >= self.THREADED_FROM:
            self.pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="bcrypt")
            self.futures = [
                self.pool.submit(_hash_chunk, chunk, self.rounds) for chunk in chunks(passwords, 50)
            ]

    def result(self, progress: ProgressCallback | None = None) -> list[str]:
        """The hashes, in the order of the passwords."""
        if self.pool is None:
            return _hash_chunk(self.passwords, self.rounds)
        hashes: list[str] = []
        for future in self.futures:
            hashes += future.result()
            if progress:
                progress("hashing passwords", len(hashes), self.count)
        return hashes

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def __enter__(self) -> Hashing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def credentials_csv(credentials: list[Credential]) -> str:
    """The `--credentials` file (docs/contract.md §2): one line per new account, header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CREDENTIAL_COLUMNS)
    for item in credentials:
        writer.writerow(
            [item.parent_ref, item.identifier, item.password, item.family_name, item.given_name]
        )
    return out.getvalue()
