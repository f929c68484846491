"""Self-service flows that wait on a mailed link: a row each, with a state and an expiry.

Only the keyed hash of the link's token is stored. Each step moves the state with a conditional
update (`UPDATE … WHERE state = expected`), so two clicks on one link apply once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.accounts import Account
from idp.models.base import UTCDateTime, random_id, utcnow

# Kinds
EMAIL_CONFIRMATION = "email_confirmation"  # the activation's mailed link
PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind): the "Mot de passe oublié" link
EMAIL_CHANGE = "email_change"  # "Gérer mon compte": confirms a new address (`email` holds it)

# States
SENT = "sent"  # the link is out and usable
DONE = "done"  # the link was used
CANCELLED = "cancelled"  # replaced by a newer link, or the account changed


class Flow(db.Model):
    __tablename__ = "flow"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=SENT)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))  # where the link was sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the SMTP server took it

    account: Mapped[Account] = relationship()
