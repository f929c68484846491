"""Who is signed in to the account: the browsers (sign-in sessions) and the teleservices
holding tokens.

The parent sees both on "Gérer mon compte" and can end a session, sign out everywhere, or revoke
a teleservice's tokens: each through idp.accounts.revocation, committed once.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from idp import audit
from idp.accounts import events, revocation
from idp.extensions import db
from idp.models import Account, Client, LoginSession, Token
from idp.models.base import utcnow

# First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = (
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/")),
    ("Safari", re.compile(r"Safari/")),
)
SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Windows", re.compile(r"Windows")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Mac", re.compile(r"Macintosh|Mac OS X")),
    ("Linux", re.compile(r"Linux|X11")),
)


def _first_match(patterns: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> str | None:
    return next((name for name, pattern in patterns if pattern.search(text)), None)


def describe_browser(user_agent: str) -> str:
    """ "Firefox sur Android", from the User-Agent header: enough to recognise one's device."""
    browser = _first_match(BROWSERS, user_agent)
    system = _first_match(SYSTEMS, user_agent)
    if browser and system:
        return _("%(browser)s sur %(system)s", browser=browser, system=system)
    return browser or system or _("Navigateur inconnu")


@dataclass(frozen=True)
class SessionView:
    id: str
    browser: str
    started: datetime
    last_used: datetime
    current: bool
    network: str = ""  # where from, coarsely: the address with its last part hidden


@dataclass(frozen=True)
class TeleserviceView:
    client_id: str
    name: str
    last_used: datetime


def _live_sessions(account: Account):
    """The account's sessions that still sign a browser in (see idp.sessions: idle, max TTL)."""
    config = current_app.config
    now = utcnow()
    return select(LoginSession).where(
        LoginSession.account_id == account.id,
        LoginSession.ended_at.is_(None),
        LoginSession.last_seen_at > now - timedelta(seconds=config["SESSION_IDLE_TTL"]),
        LoginSession.auth_time > now - timedelta(seconds=config["SESSION_MAX_TTL"]),
    )


def coarse_address(address: str) -> str:
    """``203.0.113.54`` → ``203.0.113.x``: enough to tell home from work, not a precise trace."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 4:
        return ".".join(address.split(".")[:3]) + ".x"
    return ":".join(ip.exploded.split(":")[:4]) + ":…"


def active_sessions(account: Account, current_id: str) -> list[SessionView]:
    """This browser's session first, then the others, most recently used first."""
    rows = db.session.scalars(_live_sessions(account).order_by(LoginSession.last_seen_at.desc()))
    found = [
        SessionView(
            id=row.id,
            browser=describe_browser(row.user_agent),
            started=row.auth_time,
            last_used=row.last_seen_at,
            current=row.id == current_id,
            network=coarse_address(row.ip_address),
        )
        for row in rows
    ]
    return sorted(found, key=lambda item: not item.current)


def teleservices(account: Account) -> list[TeleserviceView]:
    """The clients holding tokens of the account that are not all revoked, last used first."""
    live = or_(Token.access_token_revoked_at == 0, Token.refresh_token_revoked_at == 0)
    rows = db.session.execute(
        select(Token.client_id, func.max(Token.issued_at))
        .where(Token.account_id == account.id, live)
        .group_by(Token.client_id)
    ).all()
    last_used = dict(rows)
    clients = db.session.scalars(select(Client).where(Client.client_id.in_(last_used)))
    found = [
        TeleserviceView(
            client.client_id, client.name, datetime.fromtimestamp(last_used[client.client_id], UTC)
        )
        for client in clients
    ]
    return sorted(found, key=lambda item: item.last_used, reverse=True)


def revoke_client(account: Account, client_id: str) -> bool:
    """Revoke every access and refresh token the client holds for the account.

    The teleservice's next request for tokens goes through /authorize again, where the
    browser's sign-in session (SSO) answers. False when the client held nothing to revoke.
    """
    revoked = revocation.revoke_tokens(
        and_(Token.account_id == account.id, Token.client_id == client_id)
    )
    if revoked:
        client = db.session.scalar(select(Client).filter_by(client_id=client_id))
        audit.record("client_access_revoked", account, client=client, commit=False)
    events.commit()
    return bool(revoked)


def end_session(account: Account, session_id: str, current_id: str) -> bool:
    """End another browser's session; this browser's own is ended by "Se déconnecter"."""
    ended = revocation.end_sessions(account.id, "session_ended", only=session_id, keep=current_id)
    events.commit()
    return bool(ended)


def end_all_sessions(account: Account) -> int:
    """ "Se déconnecter partout": every session of the account, this browser's included.

    Teleservices keep their tokens: revoking them is the per-teleservice button's work.
    """
    ended = revocation.end_sessions(account.id, "signed_out_everywhere")
    events.commit()
    return len(ended)
