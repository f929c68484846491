"""The browser's sign-in session: a random token in the cookie, its keyed hash in the database.

The Flask cookie carries only that token (`sid`) and a random browser id (`bid`) that binds
pending authorization requests to the browser that started them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, g, session
from sqlalchemy import ColumnElement, Select, bindparam, select, update
from sqlalchemy.orm import joinedload

from idp.accounts import events
from idp.accounts.revocation import end_sessions
from idp.extensions import db
from idp.models import Account, LoginSession
from idp.models.accounts import ACTIVE, DISABLED, LOCKED
from idp.models.base import random_id, utcnow
from idp.passwords import secret_hash

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often...
TOUCH_SHARE = 10  # ...and at least ten times per idle timeout


@dataclass(frozen=True)
class SignedInAccount:
    """The few columns of the account that the authorization endpoint reads."""

    id: int
    public_id: str  # what claims.parent_subject() needs for an id_token_hint
    status: str

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True)
class SignedIn:
    """A live sign-in session read as columns, for the authorization endpoint.

    Loading LoginSession and Account as ORM objects cost the SSO case more CPU than the rest of
    the endpoint (issue 14); this is one Core statement and two frozen records.
    """

    id: str
    account_id: int
    auth_time: datetime
    account: SignedInAccount


_LOGIN_SESSIONS, _ACCOUNTS = LoginSession.__table__, Account.__table__
_SESSION_BY_TOKEN = (
    select(
        _LOGIN_SESSIONS.c.id,
        _LOGIN_SESSIONS.c.auth_time,
        _LOGIN_SESSIONS.c.last_seen_at,
        _LOGIN_SESSIONS.c.ended_at,
        _ACCOUNTS.c.id,
        _ACCOUNTS.c.public_id,
        _ACCOUNTS.c.status,
    )
    .join_from(_LOGIN_SESSIONS, _ACCOUNTS, _LOGIN_SESSIONS.c.account_id == _ACCOUNTS.c.id)
    .where(_LOGIN_SESSIONS.c.token_hash == bindparam("token_hash"))
)
_TOUCH = (
    update(_LOGIN_SESSIONS)
    .where(_LOGIN_SESSIONS.c.id == bindparam("session_id"))
    .values(last_seen_at=bindparam("now", type_=_LOGIN_SESSIONS.c.last_seen_at.type))
)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["current_account"] = current_account


def browser_id() -> str:
    if "bid" not in session:
        session["bid"] = random_id()
    return session["bid"]


def sign_in(account: Account, user_agent: str = "", ip_address: str = "") -> LoginSession:
    """Start a new session for the account (a new token: no fixation); commits."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    account.last_login_at = now
    login_session = LoginSession(
        token_hash=secret_hash(token),
        account=account,
        auth_time=now,
        last_seen_at=now,
        user_agent=user_agent[:255],
        ip_address=ip_address[:64],
    )
    db.session.add(login_session)
    db.session.commit()
    session["sid"] = token
    session.permanent = True
    g.login_session = login_session
    return login_session


def _touch_every() -> timedelta:
    """How stale ``last_seen_at`` may be: a minute, or a tenth of a short idle timeout."""
    idle = timedelta(seconds=current_app.config["SESSION_IDLE_TTL"])
    return min(TOUCH_EVERY, idle / TOUCH_SHARE)


def renew() -> None:
    """A new session token for the browser's live session, at a privilege change (activation,
    password change): a token seen or planted before the change is worth nothing after it."""
    login_session = current_session()
    if login_session is None:
        return
    token = secrets.token_urlsafe(32)
    login_session.token_hash = secret_hash(token)
    db.session.commit()
    session["sid"] = token


def _expired(
    ended_at: datetime | None,
    account_status: str,
    last_seen_at: datetime,
    auth_time: datetime,
    now: datetime,
) -> bool:
    """Ended, locked, too old, or idle. ``last_seen_at`` lags the last request by up to
    ``_touch_every()``, so idleness counts from that bound: a session used more often than
    the idle timeout never idles out, whatever the timeout."""
    config = current_app.config
    idle = timedelta(seconds=config["SESSION_IDLE_TTL"]) + _touch_every()
    return (
        ended_at is not None
        or account_status in (LOCKED, DISABLED)
        or now - last_seen_at > idle
        or now - auth_time > timedelta(seconds=config["SESSION_MAX_TTL"])
    )


def current_session() -> LoginSession | None:
    """The browser's live sign-in session, or None; idle and old sessions count as none.

    ``g.login_session`` holds the request's answer, as a LoginSession or, after signed_in(),
    as a SignedIn record, loaded here as objects by primary key when a caller needs them.
    """
    if "login_session" in g:
        known = g.login_session
        if isinstance(known, SignedIn):
            known = g.login_session = db.session.get(
                LoginSession, known.id, options=[joinedload(LoginSession.account)]
            )
        return known
    token = session.get("sid")
    login_session = None
    if token:
        found = db.session.scalar(
            db.select(LoginSession)
            .options(joinedload(LoginSession.account))
            .filter_by(token_hash=secret_hash(token))
        )
        now = utcnow()
        if found is not None and not _expired(
            found.ended_at, found.account.status, found.last_seen_at, found.auth_time, now
        ):
            login_session = found
            if now - found.last_seen_at >= _touch_every():
                found.last_seen_at = now
                db.session.commit()
    g.login_session = login_session
    return login_session


def session_statement(*columns: ColumnElement) -> Select:
    """The statement signed_in() sends, with more columns after its own: what a caller needs
    in the same round trip (the authorization endpoint: whether its nonce was used before)."""
    return _SESSION_BY_TOKEN.add_columns(*columns)


def signed_in(
    statement: Select = _SESSION_BY_TOKEN, **params: object
) -> tuple[SignedIn | LoginSession | None, tuple]:
    """The browser's live sign-in session as current_session() judges it, read as columns in
    one statement (a LoginSession when this request already loaded one), and the values of the
    statement's extra columns (none when no row was read)."""
    if "login_session" in g:
        return g.login_session, ()
    token = session.get("sid")
    live, extra = None, ()
    if token:
        row = (
            db.session.connection()
            .execute(statement, {**params, "token_hash": secret_hash(token)})
            .first()
        )
        now = utcnow()
        if row is not None:
            session_id, auth_time, last_seen_at, ended_at, account_id, public_id, status = row[:7]
            extra = tuple(row[7:])
            if not _expired(ended_at, status, last_seen_at, auth_time, now):
                account = SignedInAccount(account_id, public_id, status)
                live = SignedIn(session_id, account_id, auth_time, account)
                if now - last_seen_at >= _touch_every():
                    db.session.connection().execute(_TOUCH, {"session_id": session_id, "now": now})
                    db.session.commit()
    g.login_session = live
    return live, extra


def current_account() -> Account | None:
    login_session = current_session()
    return login_session.account if login_session else None


def sign_out() -> None:
    """End the browser's session, here and in the database (idp.accounts.revocation)."""
    login_session = current_session()
    if login_session is not None:
        end_sessions(login_session.account_id, "logout", only=login_session.id)
        events.commit()
    session.pop("sid", None)
    g.login_session = None
