"""Files made for one staff member (a reset's letter, an import's letters and credentials).

Their passwords exist nowhere else, so they are kept encrypted (Fernet, with a key derived from
IDP_SECRET_KEY), for one staff member only, and for an hour.
"""

from __future__ import annotations

import base64
from datetime import timedelta

from cryptography.fernet import Fernet
from sqlalchemy import delete

from idp.extensions import db
from idp.models import Staff, StaffDownload
from idp.models.base import utcnow
from idp.passwords import derived_key

KEEP = timedelta(hours=1)


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived_key(b"idp staff downloads")))


def store(staff: Staff, filename: str, mimetype: str, content: bytes) -> StaffDownload:
    """Add the file to the session (the caller commits), dropping expired ones."""
    db.session.execute(delete(StaffDownload).where(StaffDownload.expires_at <= utcnow()))
    item = StaffDownload(
        staff_id=staff.id,
        filename=filename,
        mimetype=mimetype,
        content=_fernet().encrypt(content),
        expires_at=utcnow() + KEEP,
    )
    db.session.add(item)
    db.session.flush()
    return item


def content(item: StaffDownload) -> bytes:
    return _fernet().decrypt(item.content)
