"""Parent accounts, children, schools and the parent-child links, as the schools provide them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.base import UTCDateTime, random_id, utcnow

# Statuses of an account, in the order a parent meets them.
PROVISIONAL = "provisional"  # created by the school; the letter's password works
PENDING_EMAIL = "pending_email"  # activated; the email address is not confirmed yet
ACTIVE = "active"
LOCKED = "locked"  # too many failures; the school unlocks it (`idp accounts reset`)
DISABLED = "disabled"

# Why an account is locked (shown to the help desk by `idp accounts show`).
LOCKED_BIRTHDATE = "activation_birthdate_failures"
LOCKED_NOT_GUARDIAN = "reported_not_guardian"


class Account(db.Model):
    """A parent (legal representative) account."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The stable, opaque `sub` given to public clients: never the sign-in identifier.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=random_id)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    parent_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    given_name: Mapped[str] = mapped_column(String(128))
    family_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(128))
    provisional_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=PROVISIONAL)
    locked_reason: Mapped[str | None] = mapped_column(String(64))
    # Wrong child birth dates given at activation; at MAX_ACTIVATION_FAILURES the account locks.
    activation_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    # Brute-force protection of the password (CNIL 2022): failures in a row, the moment the
    # next try is allowed, and the failures of the current 24-hour window.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    next_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures_in_window: Mapped[int] = mapped_column(default=0, server_default="0")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    email_verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Retention: when the account, unused for years, was warned that it will be disabled.
    inactivity_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of the pages the parent last used ("fr", "en"): its mails are written in it.
    locale: Mapped[str | None] = mapped_column(String(8))

    links: Mapped[list[Link]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Link.id"
    )

    @property
    def children(self) -> list[Child]:
        return [link.child for link in self.links]

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def get_user_id(self) -> int:
        """Authlib's hook: the resource owner's key."""
        return self.id


class School(db.Model):
    """A school, known by its UAI (the national identifier: 7 digits and a letter)."""

    __tablename__ = "school"

    uai: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))  # None until an import names it


class Child(db.Model):
    """A pupil, known to school systems by its school reference (`ref`)."""

    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    given_name: Mapped[str] = mapped_column(String(128))
    family_name: Mapped[str] = mapped_column(String(128))
    birthdate: Mapped[date] = mapped_column(Date)
    school_uai: Mapped[str] = mapped_column(ForeignKey("school.uai"))
    class_level: Mapped[str] = mapped_column(String(32))

    school: Mapped[School] = relationship(lazy="joined")


class Link(db.Model):
    """A parent-child link: the parent is a legal representative of the child."""

    __tablename__ = "link"
    __table_args__ = (UniqueConstraint("account_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)

    account: Mapped[Account] = relationship(back_populates="links")
    child: Mapped[Child] = relationship(lazy="joined")
