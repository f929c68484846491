"""Mailed links: a random token (256 bits) for the mail, its keyed hash in a Flow row.

A link works once (a conditional update SENT → DONE) and until its expiry; a newer link of the
same kind for the same account cancels the older ones. Activation and address-change links
live IDP_ACTIVATION_LINK_TTL, reset links IDP_RESET_LINK_TTL.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from idp import mail
from idp.accounts import events
from idp.accounts.revocation import cancel_links
from idp.extensions import db
from idp.messages import Message, message
from idp.models import Account, Flow
from idp.models.base import random_id, utcnow
from idp.models.flows import CANCELLED, DONE, PASSWORD_RESET, SENT
from idp.passwords import secret_hash

# Why a mailed link can't be used (the services' outcomes and the pages' messages alike).
UNKNOWN = "unknown"
EXPIRED = "expired"
REPLACED = "replaced"  # a newer link of the same kind was sent
CANCELLED_BY_CHANGE = "cancelled"  # the account changed since (password, address, reset)
USED = "used"


def check(token: str, kind: str) -> tuple[Flow | None, str | None]:
    """The link's flow and, when it can't be used, why (one of the problems above)."""
    flow = find(token, kind)
    if flow is None:
        return None, UNKNOWN
    if flow.state == DONE:
        return flow, USED
    if flow.state == CANCELLED:
        return flow, REPLACED if _newer_sent(flow) else CANCELLED_BY_CHANGE
    if is_expired(flow):
        return flow, EXPIRED
    return flow, None


def problem_message(problem: str) -> Message:
    """What the parent reads about a link that can't be used (`link.used`, …)."""
    return message(f"link.{problem}")


def _newer_sent(flow: Flow) -> bool:
    """Whether a link of the same kind went to the account after this one."""
    return (
        db.session.scalar(
            select(Flow.id)
            .where(
                Flow.account_id == flow.account_id,
                Flow.kind == flow.kind,
                Flow.created_at > flow.created_at,
            )
            .limit(1)
        )
        is not None
    )


def lifetime(kind: str) -> int:
    """How long a link of this kind works, in seconds."""
    name = "RESET_LINK_TTL" if kind == PASSWORD_RESET else "ACTIVATION_LINK_TTL"
    return current_app.config[name]


def create(kind: str, account: Account, email: str | None) -> tuple[Flow, str]:
    """A new link; older live links of the kind are cancelled. The caller commits."""
    cancel_links(account.id, "replaced", kinds=(kind,))
    ttl = lifetime(kind)
    token = secrets.token_urlsafe(32)
    flow = Flow(
        id=random_id(),  # known before the flush: the queued mail names it
        kind=kind,
        account_id=account.id,
        token_hash=secret_hash(token),
        email=email,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )
    db.session.add(flow)
    return flow, token


def find(token: str, kind: str) -> Flow | None:
    if not token or len(token) > 128:
        return None
    return db.session.scalar(select(Flow).filter_by(token_hash=secret_hash(token), kind=kind))


def is_expired(flow: Flow) -> bool:
    return flow.expires_at < utcnow()


def use(flow: Flow) -> bool:
    """Spend the link; True for the one call that did (two clicks at once: one wins)."""
    events.before_update.send("link.use", account_id=flow.account_id)
    result = db.session.execute(
        update(Flow)
        .where(Flow.id == flow.id, Flow.state == SENT, Flow.expires_at >= utcnow())
        .values(state=DONE, used_at=utcnow())
    )
    return result.rowcount == 1


def last_sent(account: Account, kind: str) -> Flow | None:
    return db.session.scalar(
        select(Flow)
        .filter_by(account_id=account.id, kind=kind)
        .order_by(Flow.created_at.desc())
        .limit(1)
    )


# What a page can say about the mail of the live link (``mail_state``).
MAIL_SENT = "sent"  # the SMTP server took it (the outbox's sender set ``mailed_at``)
MAIL_QUEUED = "queued"  # on its way: queued, or being retried while the server is away
MAIL_UNKNOWN = "unknown"  # no live link, or its mail was given up: offer a new one


def mail_state(account: Account, kind: str) -> str:
    """Whether the live link of this kind went out, for pages that say so."""
    flow = last_sent(account, kind)
    if flow is None or flow.state != SENT:
        return MAIL_UNKNOWN
    if flow.mailed_at is not None:
        return MAIL_SENT
    return MAIL_QUEUED if mail.is_queued(flow_id=flow.id) else MAIL_UNKNOWN
