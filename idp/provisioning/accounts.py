"""Provisional parent accounts: created by the school, handed over on a paper letter."""

from __future__ import annotations

import re
import secrets
import string
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from idp import audit
from idp.extensions import db
from idp.models import Account, Child, Link, School
from idp.models.base import utcnow
from idp.passwords import UNAMBIGUOUS, hash_password, provisional_password

UAI = re.compile(r"^\d{7}[A-Z]$")
READABLE_UPPER = "".join(c for c in UNAMBIGUOUS if not c.islower())
# Letters that Unicode decomposition does not fold to ASCII by itself.
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})


class ProvisioningError(ValueError):
    """Input a school gave that can't be used; the message says which and why."""


@dataclass(frozen=True)
class ChildSpec:
    given_name: str
    family_name: str
    birthdate: date
    school_uai: str
    class_level: str
    school_name: str | None = None
    ref: str | None = None


ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: str) -> date:
    """`YYYY-MM-DD` or `JJ/MM/AAAA` (a regular expression: strptime costs 30 µs a call, which
    an export of 300,000 rows feels)."""
    value = value.strip()
    if match := ISO_DATE.fullmatch(value):
        year, month, day = match.groups()
    elif match := FRENCH_DATE.fullmatch(value):
        day, month, year = match.groups()
    else:
        raise ProvisioningError(f"bad date {value!r}: YYYY-MM-DD or JJ/MM/AAAA expected")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ProvisioningError(f"bad date {value!r}: no such day") from None


def parse_child(spec: str) -> ChildSpec:
    """The CLI form `GIVEN;FAMILY;YYYY-MM-DD;SCHOOL_UAI;CLASS[;SCHOOL_NAME]`."""
    parts = [part.strip() for part in spec.split(";")]
    if len(parts) not in (5, 6) or not all(parts):
        raise ProvisioningError(
            f"bad child {spec!r}: GIVEN;FAMILY;YYYY-MM-DD;SCHOOL_UAI;CLASS[;SCHOOL_NAME] expected"
        )
    return ChildSpec(
        given_name=parts[0],
        family_name=parts[1],
        birthdate=parse_date(parts[2]),
        school_uai=parts[3].upper(),
        class_level=parts[4],
        school_name=parts[5] if len(parts) == 6 else None,
    )


def fold(name: str) -> str:
    """`N'Diaye-Martin` → `ndiayemartin`: lowercase ASCII letters only."""
    decomposed = unicodedata.normalize("NFKD", name.lower().translate(LIGATURES))
    return "".join(c for c in decomposed if c in string.ascii_lowercase)


# Digits drawn after the stem, try after try: two first, more when the short ones are taken.
IDENTIFIER_DIGITS = (2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 6)


def identifier_stem(given_name: str, family_name: str) -> str:
    return f"{(fold(given_name) or 'x')[0]}.{(fold(family_name) or 'parent')[:20]}"


def identifier_candidate(stem: str, attempt: int) -> str:
    """The `attempt`-th random try for a stem; ProvisioningError once the tries run out."""
    if attempt >= len(IDENTIFIER_DIGITS):
        raise ProvisioningError(f"no free identifier for {stem}")
    digits = IDENTIFIER_DIGITS[attempt]
    return f"{stem}{secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1)}"


def new_identifier(given_name: str, family_name: str) -> str:
    """Short and readable, unique across the provider: `c.martin42`."""
    stem = identifier_stem(given_name, family_name)
    for attempt in range(len(IDENTIFIER_DIGITS)):
        candidate = identifier_candidate(stem, attempt)
        taken = db.session.scalar(select(Account.id).filter_by(identifier=candidate))
        if taken is None:
            return candidate
    raise ProvisioningError(f"no free identifier for {stem}")


def provisional_expiry() -> datetime:
    """When a provisional password issued now stops working (docs/contract.md §1)."""
    return utcnow() + timedelta(seconds=current_app.config["PROVISIONAL_PASSWORD_TTL"])


def hash_provisional(password: str) -> str:
    """A provisional password's hash, at the provisional cost (README: School provisioning)."""
    return hash_password(password, current_app.config["PROVISIONAL_BCRYPT_ROUNDS"])


def school_for(uai: str, name: str | None) -> School:
    if not UAI.match(uai):
        raise ProvisioningError(f"bad school UAI {uai!r}: 7 digits and a letter expected")
    school = db.session.get(School, uai)
    if school is None:  # the name is optional (contract §2): an import can give it later
        school = School(uai=uai, name=name or None)
        db.session.add(school)
    elif name and school.name is None:
        school.name = name
    elif name and name != school.name:
        raise ProvisioningError(f"school {uai} is known as {school.name!r}: give that name or none")
    return school


def new_child_ref() -> str:
    return "ENF-" + "".join(
        secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
    )


def create_account(
    given_name: str, family_name: str, children: list[ChildSpec]
) -> tuple[Account, str]:
    """One provisional account with its children; returns it and its provisional password.

    The password is returned once, for the letter, and stored only as a hash. Commits once.
    """
    if not given_name.strip() or not family_name.strip():
        raise ProvisioningError("a parent needs a given name and a family name")
    password = provisional_password()
    account = Account(
        identifier=new_identifier(given_name, family_name),
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        password_hash=hash_provisional(password),
        provisional_expires_at=provisional_expiry(),
    )
    for spec in children:
        child = Child(
            ref=spec.ref or new_child_ref(),
            given_name=spec.given_name,
            family_name=spec.family_name,
            birthdate=spec.birthdate,
            school=school_for(spec.school_uai, spec.school_name),
            class_level=spec.class_level,
        )
        account.links.append(Link(child=child))
    db.session.add(account)
    db.session.flush()
    audit.record("account_created", account=account, commit=False, children=len(children))
    db.session.commit()
    return account, password


def find_account(identifier: str) -> Account:
    account = db.session.scalar(select(Account).filter_by(identifier=identifier.strip().lower()))
    if account is None:
        raise ProvisioningError(f"no account {identifier!r}")
    return account


def find_child(ref: str) -> Child | None:
    return db.session.scalar(select(Child).filter_by(ref=ref))


def describe_child(child: Child) -> dict[str, Any]:
    return {
        "ref": child.ref,
        "given_name": child.given_name,
        "family_name": child.family_name,
        "school": {"uai": child.school.uai, "name": child.school.name},
        "class_level": child.class_level,
    }


def describe_account(account: Account) -> dict[str, Any]:
    """What the help desk sees (docs/contract.md §2, `idp accounts show`)."""
    return {
        "identifier": account.identifier,
        "status": account.status,
        "email": account.email,
        "email_verified": account.email_verified,
        "locked_reason": account.locked_reason,
        "last_login_at": account.last_login_at.isoformat() if account.last_login_at else None,
        "children": [describe_child(child) for child in account.children],
    }
