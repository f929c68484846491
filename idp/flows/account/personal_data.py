""" "Mes données" (GDPR art. 15 and 20): what the provider holds about the parent and each
child, what each teleservice received and when, the recent sign-ins, and all of it as JSON.

The download holds every row the database keeps about the account, and nothing about anyone
else; secrets are not data about the parent and stay out (password hash, the keyed hashes of
tokens, codes and links).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from idp.extensions import db
from idp.flows.account.signed_in import describe_browser
from idp.models import Account, AuditEvent, Client, Flow, LoginSession, Token
from idp.oidc import disclosures

# The claims each scope releases (docs/contract.md §3); the birth date is never one of them.
CLAIMS_OF_SCOPE = {
    "openid": ["sub"],
    "profile": ["given_name", "family_name", "name", "locale"],
    "email": ["email", "email_verified"],
    "children": ["children"],
}
# How the page names each claim to a parent.
CLAIM_LABELS = {
    "sub": _l("un identifiant propre à ce téléservice"),
    "given_name": _l("votre prénom"),
    "family_name": _l("votre nom"),
    "name": _l("votre nom complet"),
    "locale": _l("la langue de vos pages (français ou anglais)"),
    "email": _l("votre adresse électronique"),
    "email_verified": _l("si elle est vérifiée"),
    "children": _l("vos enfants : prénom, nom, école et classe"),
}
RECENT_SIGN_INS = 10


@dataclass(frozen=True)
class Release:
    client_id: str
    client_name: str
    claims: list[str]
    first_at: datetime
    last_at: datetime


def releases(account: Account) -> list[Release]:
    """Which teleservice received which claims, first and last time."""
    rows = disclosures.of_account(account.id)
    clients = db.session.scalars(
        select(Client).where(Client.client_id.in_({row.client_id for row in rows}))
    )
    names = {client.client_id: client.name for client in clients}
    return [
        Release(
            row.client_id,
            names.get(row.client_id, row.client_id),
            [
                claim
                for scope, claims in CLAIMS_OF_SCOPE.items()
                if scope in row.scope.split()
                for claim in claims
            ],
            row.first_at,
            row.last_at,
        )
        for row in rows
    ]


def recent_sign_ins(account: Account, limit: int = RECENT_SIGN_INS) -> list[LoginSession]:
    return db.session.scalars(
        select(LoginSession)
        .filter_by(account_id=account.id)
        .order_by(LoginSession.auth_time.desc())
        .limit(limit)
    ).all()


def _moment(value: datetime | int | None) -> str | None:
    if value is None or value == 0:
        return None
    if isinstance(value, int):
        value = datetime.fromtimestamp(value).astimezone()
    return value.isoformat()


def _rows(model: type, account_id: int, order: Any) -> list:
    return db.session.scalars(select(model).filter_by(account_id=account_id).order_by(order)).all()


def export(account: Account) -> dict[str, Any]:
    """Everything held about the account, as one JSON document."""
    return {
        "account": {
            "identifier": account.identifier,
            "parent_ref": account.parent_ref,
            "given_name": account.given_name,
            "family_name": account.family_name,
            "email": account.email,
            "email_verified": account.email_verified,
            "status": account.status,
            "locked_reason": account.locked_reason,
            "created_at": _moment(account.created_at),
            "updated_at": _moment(account.updated_at),
            "last_login_at": _moment(account.last_login_at),
            "provisional_expires_at": _moment(account.provisional_expires_at),
            "failed_logins": account.failed_logins,
            "failures_in_window": account.failures_in_window,
            "activation_failures": account.activation_failures,
            "inactivity_warned_at": _moment(account.inactivity_warned_at),
        },
        "children": [
            {
                "ref": child.ref,
                "given_name": child.given_name,
                "family_name": child.family_name,
                "birthdate": child.birthdate.isoformat(),
                "school": {"uai": child.school.uai, "name": child.school.name},
                "class_level": child.class_level,
            }
            for child in account.children
        ],
        "teleservices": [
            {
                "client_id": item.client_id,
                "name": item.client_name,
                "claims": item.claims,
                "first_at": _moment(item.first_at),
                "last_at": _moment(item.last_at),
            }
            for item in releases(account)
        ],
        "sign_ins": [
            {
                "at": _moment(row.auth_time),
                "last_seen_at": _moment(row.last_seen_at),
                "ended_at": _moment(row.ended_at),
                "device": describe_browser(row.user_agent),
                "user_agent": row.user_agent,
                "ip_address": row.ip_address,
            }
            for row in _rows(LoginSession, account.id, LoginSession.auth_time)
        ],
        "tokens": [
            {
                "client_id": row.client_id,
                "scope": row.scope,
                "issued_at": _moment(row.issued_at),
                "access_revoked_at": _moment(row.access_token_revoked_at),
                "refresh_expires_at": _moment(row.refresh_expires_at),
            }
            for row in _rows(Token, account.id, Token.id)
        ],
        "mailed_links": [
            {
                "kind": row.kind,
                "state": row.state,
                "sent_to": row.email,
                "created_at": _moment(row.created_at),
                "expires_at": _moment(row.expires_at),
                "used_at": _moment(row.used_at),
            }
            for row in _rows(Flow, account.id, Flow.created_at)
        ],
        "events": [
            {
                "at": _moment(row.at),
                "event": row.event,
                "client_id": row.client_id,
                "ip_address": row.ip_address,
                "details": row.details,
            }
            for row in _rows(AuditEvent, account.id, AuditEvent.id)
        ],
    }
