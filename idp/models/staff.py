"""School staff (directors and deputies) of the school console: a population apart from parents.

Their own table, sessions and cookie. A staff member signs in with a password and a TOTP code
(RFC 6238); `totp_last_step` is the time step of the last code accepted, so a code is used once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.base import UTCDateTime, random_id, utcnow

# Statuses
INVITED = "invited"  # the enrolment link is out; no password or authenticator yet
ENROLLING = "enrolling"  # password chosen; the authenticator is not proven yet
ACTIVE = "active"
LOCKED = "locked"  # too many failures (the throttle of the parents' sign-in)
DISABLED = "disabled"  # removed by a director (delegation) or an operator

# Roles at a school
DIRECTOR = "director"
DEPUTY = "deputy"

# Stages of a staff session
PASSWORD_CHECKED = "password"  # noqa: S105 (a stage): waits for the TOTP code
ENROLMENT = "enrolment"  # a password was just chosen: the authenticator comes next
SIGNED_IN = "signed_in"


class Staff(db.Model):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    given_name: Mapped[str] = mapped_column(String(128))
    family_name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=INVITED)
    locked_reason: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(128))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int] = mapped_column(default=0, server_default="0")
    enrolment_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The same brute-force counters as parents' accounts (idp.flows.throttle).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    next_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures_in_window: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    schools: Mapped[list[StaffSchool]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="StaffSchool.school_uai"
    )

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def uais(self) -> list[str]:
        return [item.school_uai for item in self.schools]

    def directs(self, uai: str) -> bool:
        return any(s.school_uai == uai and s.role == DIRECTOR for s in self.schools)


class StaffSchool(db.Model):
    """A school a staff member may see, and their role there."""

    __tablename__ = "staff_school"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    school_uai: Mapped[str] = mapped_column(ForeignKey("school.uai"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default=DIRECTOR)

    staff: Mapped[Staff] = relationship(back_populates="schools")


class StaffSession(db.Model):
    """A browser signed in to the console; the cookie holds a token, the row its keyed hash."""

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[Staff] = relationship(lazy="joined")


class RecoveryCode(db.Model):
    """One of the ten single-use codes shown at enrolment (keyed hash only)."""

    __tablename__ = "staff_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffDownload(db.Model):
    """A file made for one staff member (letters, credentials), encrypted, kept for an hour:
    the passwords in it exist nowhere else."""

    __tablename__ = "staff_download"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(128))
    mimetype: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
