"""The outbox: work that must leave the provider (a mail, a logout token), one row per delivery.

A row is written in the same transaction as the change it announces, so that it exists if and
only if the change was committed. Senders (idp.outbox) claim due rows with a lease and mark them
`sent`, or schedule the next attempt, or give up (`failed`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.base import UTCDateTime, utcnow

# States
PENDING = "pending"  # waiting for its (next) attempt, or claimed by a sender until claimed_until
SENT = "sent"  # delivered; the payload is emptied (it may hold a live link)
FAILED = "failed"  # given up after the last attempt, or refused for good; payload emptied too
DROPPED = "dropped"  # no longer worth delivering (a mail whose link was replaced); emptied too


class OutboxItem(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(32))  # the claim's random id
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the lease
    last_error: Mapped[str | None] = mapped_column(String(120))  # an exception class, no text
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxItem {self.id} {self.kind} {self.state} attempts={self.attempts}>"
