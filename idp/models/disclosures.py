"""What each teleservice received about an account: one row per client and set of scopes.

Written at each token issue (one upsert, not a row per token), shown to the parent on
"Mes données" (first and last time), kept as long as the account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.base import UTCDateTime, utcnow


class Disclosure(db.Model):
    __tablename__ = "disclosure"
    __table_args__ = (UniqueConstraint("account_id", "client_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(48))
    scope: Mapped[str] = mapped_column(String(255))  # the scopes granted, sorted
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
