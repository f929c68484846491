"""Staff accounts: created by an operator (`idp staff add`) or a director (a deputy), enrolled
through a mailed link (a password with the parents' policy, then an authenticator)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select, update

from idp import audit, mails
from idp.console.sessions import end_all
from idp.console.totp import new_recovery_codes
from idp.extensions import db
from idp.messages import message
from idp.models import School, Staff, StaffSchool
from idp.models.base import utcnow
from idp.models.staff import ACTIVE, DEPUTY, DIRECTOR, DISABLED, ENROLLING, INVITED
from idp.passwords import hash_password, policy_problems, secret_hash
from idp.provisioning.accounts import ProvisioningError


@dataclass(frozen=True)
class Invitation:
    staff: Staff
    mail_id: int  # the enrolment mail, queued with the invitation (idp.outbox)


def normal_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ProvisioningError(f"not an email address: {email!r}") from None


def _schools(uais: list[str]) -> list[str]:
    uais = list(dict.fromkeys(uai.strip().upper() for uai in uais))
    known = set(db.session.scalars(select(School.uai).where(School.uai.in_(uais))))
    unknown = [uai for uai in uais if uai not in known]
    if unknown or not uais:
        raise ProvisioningError(f"unknown school (import its families first): {', '.join(unknown)}")
    return uais


def add_staff(
    email: str,
    given_name: str,
    family_name: str,
    uais: list[str],
    role: str = DIRECTOR,
    created_by: Staff | None = None,
) -> Invitation:
    """A new staff member (or a new link for one still invited); mails the enrolment link."""
    email = normal_email(email)
    uais = _schools(uais)
    staff = db.session.scalar(select(Staff).filter_by(email=email))
    taken = staff is not None and staff.status not in (INVITED, DISABLED)
    # A director never takes over someone else's invitation, only a removed account's.
    if taken or (staff is not None and created_by is not None and staff.schools):
        raise ProvisioningError(f"a staff account already exists for {email}")
    if staff is None:
        staff = Staff(email=email, given_name=given_name.strip(), family_name=family_name.strip())
        db.session.add(staff)
    staff.status, staff.password_hash, staff.totp_secret = INVITED, None, None
    staff.created_by_id = created_by.id if created_by else None
    staff.schools = [StaffSchool(school_uai=uai, role=role) for uai in uais]
    token = secrets.token_urlsafe(32)
    staff.enrolment_token_hash = secret_hash(token)
    ttl = current_app.config["STAFF_ENROLMENT_TTL"]
    staff.enrolment_expires_at = utcnow() + timedelta(seconds=ttl)
    db.session.flush()
    audit.record(
        "staff_invited",
        commit=False,
        staff_id=staff.id,
        schools=uais,
        role=role,
        **by(created_by),
    )
    queued = mails.staff_enrolment_link(staff, token)  # in the same transaction: never lost
    db.session.commit()
    return Invitation(staff, queued.id)


def by(staff: Staff | None) -> dict[str, object]:
    """Who did it, for the audit trail's details."""
    if staff is None:
        return {"by": "operator"}
    return {"by": "staff", "by_staff_id": staff.id, "by_staff_email": staff.email}


def find_by_enrolment(token: str) -> Staff | None:
    """The invited staff member of a live enrolment link, or None."""
    if not token or len(token) > 128:
        return None
    staff = db.session.scalar(select(Staff).filter_by(enrolment_token_hash=secret_hash(token)))
    if staff is None or staff.status != INVITED or staff.enrolment_expires_at < utcnow():
        return None
    return staff


def choose_password(staff: Staff, token: str, password: str) -> list[str]:
    """Enrolment, step one: the password (the parents' policy); the link is spent. Commits."""
    problems = policy_problems(password, [staff.email.split("@")[0], *staff.name.split()], None)
    if problems:
        return problems
    moved = db.session.execute(
        update(Staff)
        .where(Staff.id == staff.id, Staff.enrolment_token_hash == secret_hash(token))
        .where(Staff.status == INVITED)
        .values(
            password_hash=hash_password(password),
            status=ENROLLING,
            enrolment_token_hash=None,
            totp_secret=new_totp_secret(),
        )
    )
    if moved.rowcount != 1:
        db.session.rollback()
        return [message("link.used")]
    audit.record("staff_password_chosen", commit=False, staff_id=staff.id)
    db.session.commit()
    db.session.refresh(staff)
    return []


def new_totp_secret() -> str:
    return pyotp.random_base32()


def deputies(director: Staff) -> list[Staff]:
    """The other staff of the schools this director directs."""
    uais = [s.school_uai for s in director.schools if s.role == DIRECTOR]
    return list(
        db.session.scalars(
            select(Staff)
            .join(StaffSchool)
            .where(StaffSchool.school_uai.in_(uais), StaffSchool.role == DEPUTY)
            .where(Staff.status != DISABLED)
            .order_by(Staff.family_name, Staff.given_name)
            .distinct()
        )
    )


def remove_deputy(director: Staff, deputy: Staff) -> None:
    """The deputy loses the director's schools; with none left, the account is disabled."""
    uais = {s.school_uai for s in director.schools if s.role == DIRECTOR}
    removed = [s.school_uai for s in deputy.schools if s.school_uai in uais and s.role == DEPUTY]
    deputy.schools = [s for s in deputy.schools if s.school_uai not in removed]
    if not deputy.schools:
        deputy.status = DISABLED
        end_all(deputy.id)
    audit.record(
        "staff_deputy_removed", commit=False, staff_id=deputy.id, schools=removed, **by(director)
    )
    db.session.commit()


def finish_enrolment(staff: Staff) -> list[str]:
    """Enrolment, last step (the code was right): active, with ten recovery codes. Commits."""
    staff.status = ACTIVE
    codes = new_recovery_codes(staff)
    audit.record("staff_enrolled", commit=False, staff_id=staff.id)
    db.session.commit()
    return codes
