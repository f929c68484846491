"""Staff sessions: a cookie of their own (`idp_staff`, path `/ecole`), shorter lives.

The cookie holds a random token; the `staff_session` row its keyed hash, the stage reached
(password checked, enrolment, signed in) and when the last second factor was given. Idle and
absolute lifetimes: IDP_STAFF_SESSION_IDLE_TTL and IDP_STAFF_SESSION_MAX_TTL.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import update
from werkzeug.wrappers import Response

from idp.extensions import db
from idp.models import Staff, StaffSession
from idp.models.base import utcnow
from idp.models.staff import ACTIVE, ENROLLING
from idp.passwords import secret_hash

COOKIE = "idp_staff"
PATH = "/ecole"
TOUCH_EVERY = timedelta(seconds=30)


def start(staff: Staff, stage: str) -> StaffSession:
    """A new session (a new token: no fixation), ending the browser's previous one. Commits."""
    end()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    item = StaffSession(
        token_hash=secret_hash(token), staff=staff, stage=stage, started_at=now, last_seen_at=now
    )
    db.session.add(item)
    db.session.commit()
    g.staff_cookie = token
    g.staff_session = item
    return item


def _expired(item: StaffSession, now: datetime) -> bool:
    config = current_app.config
    return (
        item.ended_at is not None
        or item.staff.status not in (ACTIVE, ENROLLING)
        or now - item.last_seen_at > timedelta(seconds=config["STAFF_SESSION_IDLE_TTL"])
        or now - item.started_at > timedelta(seconds=config["STAFF_SESSION_MAX_TTL"])
    )


def current() -> StaffSession | None:
    """The browser's live staff session (any stage), or None."""
    if "staff_session" in g:
        return g.staff_session
    token = request.cookies.get(COOKIE)
    item = None
    if token and len(token) < 128:
        found = db.session.scalar(db.select(StaffSession).filter_by(token_hash=secret_hash(token)))
        now = utcnow()
        if found is not None and not _expired(found, now):
            item = found
            if now - found.last_seen_at > TOUCH_EVERY:
                found.last_seen_at = now
                db.session.commit()
    g.staff_session = item
    return item


def promote(item: StaffSession, stage: str) -> None:
    """The second factor was given: the stage moves on and the factor is fresh. Commits."""
    now = utcnow()
    item.stage, item.second_factor_at, item.last_seen_at = stage, now, now
    db.session.commit()


def factor_is_fresh(item: StaffSession) -> bool:
    limit = timedelta(seconds=current_app.config["STAFF_REAUTH_TTL"])
    return item.second_factor_at is not None and utcnow() - item.second_factor_at <= limit


def end() -> None:
    item = current()
    if item is not None:
        item.ended_at = utcnow()
        db.session.commit()
    g.staff_session = None
    g.staff_cookie = ""


def end_all(staff_id: int) -> int:
    """End every session of a staff member; the caller commits."""
    result = db.session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return result.rowcount


def set_cookie(response: Response) -> Response:
    """After the request: write or clear the cookie when the session changed."""
    token = g.get("staff_cookie")
    if token is None:
        return response
    secure = current_app.config["ISSUER"].startswith("https://")
    if token:
        response.set_cookie(
            COOKIE, token, path=PATH, httponly=True, secure=secure, samesite="Strict"
        )
    else:
        response.delete_cookie(COOKIE, path=PATH, httponly=True, secure=secure, samesite="Strict")
    return response
