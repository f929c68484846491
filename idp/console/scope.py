"""The one place that decides what a staff member may see: the families of their schools.

An account belongs to a school when one of its children is a pupil there. Every console view
that reaches an account, a colleague or a download goes through a function of this module; any
other is a 404, the same answer as an identifier that does not exist.
"""

from __future__ import annotations

from flask import abort, g
from sqlalchemy import ColumnElement, Select, exists, select

from idp.extensions import db
from idp.models import Account, Child, Link, Staff, StaffDownload, StaffSchool
from idp.models.base import utcnow
from idp.models.staff import DEPUTY, DIRECTOR, DISABLED


def current_staff() -> Staff:
    """The signed-in staff member (console.auth.staff_required put it there)."""
    return g.staff


def my_schools() -> list[str]:
    return current_staff().uais


def in_my_schools() -> ColumnElement[bool]:
    """The condition on Account: a child of the account is a pupil of one of my schools."""
    return exists(
        select(Link.id)
        .join(Child, Child.id == Link.child_id)
        .where(Link.account_id == Account.id, Child.school_uai.in_(my_schools()))
    )


def accounts() -> Select:
    """SELECT of the accounts a staff member may see; views add their filters."""
    return select(Account).where(in_my_schools())


def pupils() -> Select:
    """SELECT of the children of my schools."""
    return select(Child).where(Child.school_uai.in_(my_schools()))


def account_or_404(identifier: str) -> Account:
    found = db.session.scalar(accounts().where(Account.identifier == identifier.lower()))
    if found is None:
        abort(404)
    return found


def directed_schools() -> list[str]:
    return [item.school_uai for item in current_staff().schools if item.role == DIRECTOR]


def deputy_or_404(staff_id: int) -> Staff:
    """A deputy of a school I direct (delegation); anyone else is a 404."""
    found = db.session.scalar(
        select(Staff)
        .join(StaffSchool)
        .where(Staff.id == staff_id, Staff.status != DISABLED, StaffSchool.role == DEPUTY)
        .where(StaffSchool.school_uai.in_(directed_schools()))
    )
    if found is None:
        abort(404)
    return found


def download_or_404(download_id: str) -> StaffDownload:
    """A file made for me, not yet expired."""
    found = db.session.scalar(
        select(StaffDownload).where(
            StaffDownload.id == download_id,
            StaffDownload.staff_id == current_staff().id,
            StaffDownload.expires_at > utcnow(),
        )
    )
    if found is None:
        abort(404)
    return found
