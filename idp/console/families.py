"""What the console shows of a school's families: the list with its filters, an account's page,
the "not the legal guardian" reports and the figures. Reads only; every query is scoped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, or_, select

from idp.console import scope
from idp.extensions import db
from idp.models import Account, AuditEvent, Child, Link
from idp.models.accounts import ACTIVE, LOCKED, LOCKED_NOT_GUARDIAN, PROVISIONAL
from idp.models.base import utcnow

PAGE = 200
REPORTED = "reported"  # the status filter of the "not the legal guardian" reports
REPORT_EVENTS = ("activation_not_guardian_reported", "account.not_guardian_reported")


def _child_where(*conditions) -> ColumnElement[bool]:
    """A child of the account, pupil of my schools, meets the conditions."""
    return (
        select(Link.id)
        .join(Child, Child.id == Link.child_id)
        .where(Link.account_id == Account.id, Child.school_uai.in_(scope.my_schools()))
        .where(*conditions)
        .exists()
    )


def _matching(text: str) -> ColumnElement[bool]:
    like = f"%{text}%"
    return or_(
        Account.identifier.ilike(like),
        Account.given_name.ilike(like),
        Account.family_name.ilike(like),
        Account.parent_ref.ilike(like),
        (Account.given_name + " " + Account.family_name).ilike(like),
        _child_where(
            or_(
                Child.given_name.ilike(like),
                Child.family_name.ilike(like),
                Child.ref.ilike(like),
                Child.class_level.ilike(like),
            )
        ),
    )


def search(text: str = "", class_level: str = "", status: str = "") -> list[Account]:
    """The accounts of my schools matching a name, identifier or class, with the filters."""
    query = scope.accounts()
    if text.strip():
        query = query.where(_matching(text.strip()))
    if class_level:
        query = query.where(_child_where(Child.class_level == class_level))
    if status == REPORTED:
        query = query.where(Account.status == LOCKED, Account.locked_reason == LOCKED_NOT_GUARDIAN)
    elif status:
        query = query.where(Account.status == status)
    query = query.order_by(Account.family_name, Account.given_name, Account.id).limit(PAGE)
    return list(db.session.scalars(query))


def classes() -> list[str]:
    query = scope.pupils().with_only_columns(Child.class_level).distinct()
    return sorted(db.session.scalars(query))


def my_children(account: Account) -> list[Child]:
    """The account's children that are pupils of my schools (the others are not my business)."""
    uais = set(scope.my_schools())
    return [child for child in account.children if child.school_uai in uais]


def letter_issued_at(account: Account) -> datetime | None:
    """When the current letter was issued (its password's expiry minus its lifetime)."""
    if account.status != PROVISIONAL or account.provisional_expires_at is None:
        return None
    ttl = current_app.config["PROVISIONAL_PASSWORD_TTL"]
    return account.provisional_expires_at - timedelta(seconds=ttl)


def age_in_days(moment: datetime | None) -> int | None:
    return None if moment is None else max(0, (utcnow() - moment).days)


def reported_child(account: Account) -> Child | None:
    """The child named in the account's "not the legal guardian" report."""
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.account_id == account.id, AuditEvent.event.in_(REPORT_EVENTS))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    ref = (event.details or {}).get("child_ref") if event else None
    children = my_children(account)
    for child in children:
        if child.ref == ref:
            return child
    return children[0] if children and ref is None else None


def is_reported(account: Account) -> bool:
    return account.status == LOCKED and account.locked_reason == LOCKED_NOT_GUARDIAN


@dataclass
class ClassFigures:
    label: str
    accounts: int = 0
    active: int = 0

    @property
    def rate(self) -> float:
        return self.active / self.accounts if self.accounts else 0.0


@dataclass
class Figures:
    classes: list[ClassFigures] = field(default_factory=list)
    overall: ClassFigures = field(default_factory=lambda: ClassFigures(""))
    never_activated: int = 0
    locked: int = 0
    days: int = 30


def figures(days: int) -> Figures:
    """Activation per class and overall, accounts still provisional after `days`, locked ones."""
    rows = db.session.execute(
        select(Account.id, Account.status, Account.created_at, Child.class_level)
        .join(Link, Link.account_id == Account.id)
        .join(Child, Child.id == Link.child_id)
        .where(Child.school_uai.in_(scope.my_schools()))
    ).all()
    per_class: dict[str, dict[int, str]] = defaultdict(dict)
    accounts: dict[int, tuple[str, datetime]] = {}
    for account_id, status, created_at, class_level in rows:
        per_class[class_level][account_id] = status
        accounts[account_id] = (status, created_at)
    result = Figures(days=days)
    for label in sorted(per_class):
        statuses = per_class[label].values()
        result.classes.append(
            ClassFigures(label, len(statuses), sum(s == ACTIVE for s in statuses))
        )
    result.overall = ClassFigures("", len(accounts), sum(s == ACTIVE for s, _ in accounts.values()))
    cutoff = utcnow() - timedelta(days=days)
    result.never_activated = sum(
        s == PROVISIONAL and created <= cutoff for s, created in accounts.values()
    )
    result.locked = sum(s == LOCKED for s, _ in accounts.values())
    return result
