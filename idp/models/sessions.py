"""Server-side sign-in sessions and the pending authorization requests (Interactions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.accounts import Account
from idp.models.base import UTCDateTime, random_id, utcnow


class LoginSession(db.Model):
    """A browser signed in to the provider: what makes SSO work across teleservices.

    The browser's cookie holds a random token; the row holds only its keyed hash.
    """

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")

    account: Mapped[Account] = relationship()


class Interaction(db.Model):
    """An authorization request put on hold while the parent signs in or activates.

    Single use: `/authorize/resume/<id>` deletes it and replays `query` through Authlib. It is
    bound to the browser that started it (`browser_id`, kept in that browser's cookie).
    """

    __tablename__ = "interaction"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    query: Mapped[str] = mapped_column(Text)
    browser_id: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
