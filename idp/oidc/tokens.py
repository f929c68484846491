"""Storing, claiming and revoking codes and tokens, with the conditional updates that make
them single use on SQLite and PostgreSQL alike (RFC 9700 §2.1.1, §4.14).

The token endpoint runs in one transaction, committed by its view: a code or refresh token is
claimed by one UPDATE … RETURNING (the check and the claim in one statement), the parent is
read with their children in one SELECT, the new tokens are one INSERT.

That path is the hottest of the provider (every sign-in to a teleservice, every refresh): it
runs prebuilt Core statements on the session's connection and hands plain frozen objects to
Authlib and the claims, not ORM instances. Building ORM objects, their identity map and the
unit of work at the flush cost more CPU than everything else the token endpoint does (issue 14).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, fields

from flask import current_app
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import joinedload

from idp.accounts.revocation import revoke_tokens
from idp.extensions import db
from idp.models import Account, AuthorizationCode, Child, Link, LoginSession, School, Token
from idp.models.accounts import ACTIVE
from idp.oidc import disclosures
from idp.passwords import secret_hash

_codes = AuthorizationCode.__table__
_tokens = Token.__table__


def new_token(**context) -> str:
    """An access or refresh token: 256 random bits (Authlib's generator, whose keyword
    arguments this takes, draws 42 characters one by one from SystemRandom: slower)."""
    return secrets.token_urlsafe(32)


def revoke_family(family: str) -> None:
    """Revoke every access and refresh token descended from one code."""
    revoke_tokens(Token.family == family)


def _execute(statement, params: dict):
    """Run a Core statement in the session's transaction (committed by the token endpoint)."""
    return db.session.connection().execute(statement, params)


@dataclass(frozen=True, slots=True)
class ClaimedCode:
    """An authorization code just spent, with what the exchange and its ID token need.

    Offers the methods Authlib's code grant, PKCE and OpenID Connect extensions call."""

    id: int
    client_id: str
    account_id: int
    login_session_id: str | None
    redirect_uri: str | None
    scope: str | None
    nonce: str | None
    auth_time: int
    acr: str | None
    amr: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: int

    @property
    def family(self) -> str:
        """The grant family: every token issued from this code (AuthorizationCode.family)."""
        return f"code-{self.id}"

    def is_expired(self) -> bool:
        return self.expires_at < time.time()

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str | None:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return self.amr.split() if self.amr else []


@dataclass(frozen=True, slots=True)
class ClaimedRefresh:
    """A token row whose refresh token was just spent: what the rotation needs."""

    id: int
    client_id: str
    account_id: int
    login_session_id: str | None
    family: str
    scope: str | None
    refresh_expires_at: int

    def check_client(self, client) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str | None:
        return self.scope


_CLAIM_CODE = (
    update(_codes)
    .where(
        _codes.c.code == bindparam("p_hash"),
        _codes.c.client_id == bindparam("p_client"),
        _codes.c.used_at.is_(None),
    )
    .values(used_at=bindparam("p_now"))
    .returning(*(_codes.c[field.name] for field in fields(ClaimedCode)))
)
_SPENT_CODE = select(_codes.c.id).where(
    _codes.c.code == bindparam("p_hash"), _codes.c.client_id == bindparam("p_client")
)
_CLAIM_REFRESH = (
    update(_tokens)
    .where(
        _tokens.c.refresh_token == bindparam("p_hash"),
        _tokens.c.client_id == bindparam("p_client"),
        _tokens.c.refresh_token_revoked_at == 0,
    )
    .values(refresh_token_revoked_at=bindparam("p_now"))
    .returning(*(_tokens.c[field.name] for field in fields(ClaimedRefresh)))
)
_SPENT_REFRESH = select(_tokens.c.family).where(
    _tokens.c.refresh_token == bindparam("p_hash"), _tokens.c.client_id == bindparam("p_client")
)


def claim_code(code: str, client_id: str) -> ClaimedCode | None:
    """The code, if it is valid, now used; a second presentation revokes what the first got.

    The caller (the token endpoint) commits, whether the exchange succeeds or not.
    """
    params = {"p_hash": secret_hash(code), "p_client": client_id, "p_now": int(time.time())}
    row = _execute(_CLAIM_CODE, params).first()
    if row is None:
        spent = _execute(_SPENT_CODE, params).scalar()
        if spent is not None:
            revoke_family(f"code-{spent}")
        return None
    item = ClaimedCode(*row)
    return None if item.is_expired() else item


def claim_refresh_token(refresh_token: str, client_id: str) -> ClaimedRefresh | None:
    """The token row, its refresh token now spent; reuse of a spent one revokes the family.

    The caller (the token endpoint) commits, whether the refresh succeeds or not.
    """
    now = int(time.time())
    params = {"p_hash": secret_hash(refresh_token), "p_client": client_id, "p_now": now}
    row = _execute(_CLAIM_REFRESH, params).first()
    if row is None:
        family = _execute(_SPENT_REFRESH, params).scalar()
        if family is not None:
            revoke_family(family)
        return None
    item = ClaimedRefresh(*row)
    return None if item.refresh_expires_at < now else item


def with_children():
    """Loader options: an account with its children and their schools, in the same SELECT."""
    return joinedload(Account.links).joinedload(Link.child)


@dataclass(frozen=True, slots=True)
class SchoolView:
    uai: str
    name: str | None


@dataclass(frozen=True, slots=True)
class ChildView:
    """A child as the claims read it (idp.oidc.claims: the attributes of models.Child)."""

    ref: str
    given_name: str
    family_name: str
    class_level: str
    school_uai: str
    school: SchoolView


@dataclass(frozen=True, slots=True)
class ParentView:
    """A parent as the claims read them (the attributes of models.Account), read-only."""

    id: int
    public_id: str
    given_name: str
    family_name: str
    email: str | None
    email_verified: bool
    locale: str | None
    status: str
    children: tuple[ChildView, ...]

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True, slots=True)
class LoadedAccount:
    account: ParentView
    session_ended: bool  # the sign-in session asked about has ended (Back-Channel Logout §2.7)


_account, _link, _child, _school = (model.__table__ for model in (Account, Link, Child, School))
_ended_at = (
    select(LoginSession.__table__.c.ended_at)
    .where(LoginSession.__table__.c.id == bindparam("p_session"))
    .scalar_subquery()
)
_ACCOUNT_COLUMNS = ("id", "public_id", "given_name", "family_name", "email", "email_verified")
_LOAD_ACCOUNT = (
    select(
        *(_account.c[name] for name in _ACCOUNT_COLUMNS),
        _account.c.locale,
        _account.c.status,
        _ended_at.label("ended_at"),
        _child.c.ref,
        _child.c.given_name.label("child_given_name"),
        _child.c.family_name.label("child_family_name"),
        _child.c.class_level,
        _child.c.school_uai,
        _school.c.name.label("school_name"),
    )
    .select_from(
        _account.outerjoin(_link, _link.c.account_id == _account.c.id)
        .outerjoin(_child, _child.c.id == _link.c.child_id)
        .outerjoin(_school, _school.c.uai == _child.c.school_uai)
    )
    .where(_account.c.id == bindparam("p_account"))
    .order_by(_link.c.id)  # Account.links' order
)


def load_account(account_id: int, login_session_id: str | None = None) -> LoadedAccount | None:
    """The account with everything its claims need and, when ``login_session_id`` is given,
    whether that sign-in session has ended: one statement."""
    rows = _execute(_LOAD_ACCOUNT, {"p_account": account_id, "p_session": login_session_id}).all()
    if not rows:
        return None
    first = rows[0]
    children = tuple(
        ChildView(
            row.ref,
            row.child_given_name,
            row.child_family_name,
            row.class_level,
            row.school_uai,
            SchoolView(row.school_uai, row.school_name),
        )
        for row in rows
        if row.ref is not None
    )
    account = ParentView(*first[:8], children=children)
    return LoadedAccount(account, first.ended_at is not None)


_INSERT_TOKEN = insert(_tokens)


def save_token(token: dict, client_id: str, subject, family: str) -> None:
    """Store a token response for ``subject`` (a grants.Subject: account, sign-in session)."""
    refresh = token.get("refresh_token")
    now = int(time.time())
    scope = token.get("scope", "")
    row = {
        "client_id": client_id,
        "account_id": subject.account.id,
        "login_session_id": subject.login_session_id,
        "offline": subject.offline,
        "family": family,
        "token_type": token["token_type"],
        "access_token": secret_hash(token["access_token"]),
        "refresh_token": secret_hash(refresh) if refresh else None,
        "refresh_expires_at": now + current_app.config["REFRESH_TOKEN_TTL"] if refresh else 0,
        "scope": scope,
        "issued_at": now,
        "expires_in": token["expires_in"],
    }
    _execute(_INSERT_TOKEN, row)  # committed with the claim, by the token endpoint
    disclosures.record(subject.account.id, client_id, scope)


def find_token(value: str, hint: str | None = None) -> Token | None:
    """An access or refresh token by its value, for revocation and bearer checks."""
    hashed = secret_hash(value)
    if hint == "access_token":
        condition = Token.access_token == hashed
    elif hint == "refresh_token":
        condition = Token.refresh_token == hashed
    else:
        condition = or_(Token.access_token == hashed, Token.refresh_token == hashed)
    return db.session.scalar(select(Token).where(condition))


def find_access_token(value: str) -> Token | None:
    """A bearer token with its account and the account's children: userinfo's one statement."""
    statement = (
        select(Token)
        .options(joinedload(Token.account).options(with_children()))
        .where(Token.access_token == secret_hash(value))
    )
    return db.session.scalars(statement).unique().one_or_none()


def revoke_token(token: Token, value: str) -> None:
    """RFC 7009 §2.1: revoking a refresh token revokes its grant; an access token, itself."""
    if token.access_token == secret_hash(value):
        token.access_token_revoked_at = int(time.time())
    else:
        revoke_family(token.family)
    db.session.commit()
