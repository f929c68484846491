"""Storing, claiming and revoking codes and tokens, with the conditional updates that make
them single use on SQLite and PostgreSQL alike (RFC 9700 §2.1.1, §4.14).

The token endpoint runs in one transaction, committed by its view: a code or refresh token is
claimed by one UPDATE … RETURNING (the check and the claim in one statement), the parent is
read with their children in one SELECT, the new tokens are one INSERT.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import bindparam, literal, or_, select, update
from sqlalchemy.orm import joinedload

from idp.accounts.revocation import revoke_tokens
from idp.extensions import db
from idp.models import Account, AuthorizationCode, Child, Client, Link, LoginSession, School, Token
from idp.models.accounts import ACTIVE
from idp.oidc import claims, disclosures
from idp.oidc.clients import cache as client_cache
from idp.passwords import secret_hash


def revoke_family(family: str) -> None:
    """Revoke every access and refresh token descended from one code."""
    revoke_tokens(Token.family == family)


def _claim_row(model, column: str, condition):
    """Set ``column`` to now on the matching row where it is still unset; the row, or None."""
    unset = getattr(model, column).is_(None) if column == "used_at" else getattr(model, column) == 0
    statement = (
        update(model)
        .where(condition, unset)
        .values({column: int(time.time())})
        .returning(model)
        .execution_options(synchronize_session=False)
    )
    return db.session.scalar(statement)


def claim_code(code: str, client_id: str) -> AuthorizationCode | None:
    """The code, if it is valid, now used; a second presentation revokes what the first got.

    The caller (the token endpoint) commits, whether the exchange succeeds or not.
    """
    hashed = secret_hash(code)
    match = (AuthorizationCode.code == hashed) & (AuthorizationCode.client_id == client_id)
    item = _claim_row(AuthorizationCode, "used_at", match)
    if item is None:
        spent = db.session.scalar(select(AuthorizationCode).where(match))
        if spent is not None:
            revoke_family(spent.family)
        return None
    return None if item.is_expired() else item


def claim_refresh_token(refresh_token: str, client_id: str) -> Token | None:
    """The token row, its refresh token now spent; reuse of a spent one revokes the family.

    The caller (the token endpoint) commits, whether the refresh succeeds or not.
    """
    hashed = secret_hash(refresh_token)
    match = (Token.refresh_token == hashed) & (Token.client_id == client_id)
    item = _claim_row(Token, "refresh_token_revoked_at", match)
    if item is None:
        spent = db.session.scalar(select(Token).where(match))
        if spent is not None:
            revoke_family(spent.family)
        return None
    return None if item.refresh_expires_at < time.time() else item


def with_children():
    """Loader options: an account with its children and their schools, in the same SELECT."""
    return joinedload(Account.links).joinedload(Link.child)


class LoadedAccount(NamedTuple):
    account: Account
    session_ended: bool  # the sign-in session asked about has ended (Back-Channel Logout §2.7)


def load_account(account_id: int, login_session_id: str | None = None) -> LoadedAccount | None:
    """The account with everything its claims need and, when ``login_session_id`` is given,
    whether that sign-in session has ended: one statement."""
    ended_at = (
        select(LoginSession.ended_at).where(LoginSession.id == login_session_id).scalar_subquery()
        if login_session_id
        else literal(None)
    )
    statement = (
        select(Account, ended_at.label("ended_at"))
        .options(with_children())
        .where(Account.id == account_id)
    )
    row = db.session.execute(statement).unique().one_or_none()
    return None if row is None else LoadedAccount(row[0], row[1] is not None)


def save_token(token: dict, client_id: str, subject, family: str) -> Token:
    """Store a token response for ``subject`` (a grants.Subject: account, sign-in session)."""
    refresh = token.get("refresh_token")
    item = Token(
        client_id=client_id,
        account_id=subject.account.id,
        login_session_id=subject.login_session_id,
        offline=subject.offline,
        family=family,
        token_type=token["token_type"],
        access_token=secret_hash(token["access_token"]),
        refresh_token=secret_hash(refresh) if refresh else None,
        refresh_expires_at=(
            int(time.time()) + current_app.config["REFRESH_TOKEN_TTL"] if refresh else 0
        ),
        scope=token.get("scope", ""),
        expires_in=token["expires_in"],
    )
    db.session.add(item)  # committed with the claim, by the token endpoint
    disclosures.record(subject.account.id, client_id, item.scope)
    return item


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


class AccessToken(NamedTuple):
    """A bearer token as userinfo needs it, with its parent's claims data: plain values read
    by one SELECT, no ORM objects (issue 14). Quacks like Authlib's token for its validator."""

    client_id: str
    scope: str
    issued_at: int
    expires_in: int
    revoked_at: int | None
    account_active: bool
    person: claims.Person

    def is_expired(self) -> bool:
        return bool(self.expires_in) and self.issued_at + self.expires_in < time.time()

    def is_revoked(self) -> bool:
        """Whether the *access* token is revoked; a rotated refresh token leaves it usable."""
        return bool(self.revoked_at)

    def get_scope(self) -> str:
        return self.scope

    def get_user(self) -> claims.Person:
        return self.person

    def get_client(self) -> Client | None:
        """The client, from the per-process cache: a removed client's tokens are refused."""
        return client_cache.get(self.client_id)


_TOKEN = Token.__table__
_ACCOUNT = Account.__table__
_LINK = Link.__table__
_CHILD = Child.__table__
_SCHOOL = School.__table__
# The token, its parent and the children with their schools, one row per child (one row with
# NULL children when there are none): only the columns userinfo needs.
_ACCESS_TOKEN = (
    select(
        _TOKEN.c.client_id,
        _TOKEN.c.scope,
        _TOKEN.c.issued_at,
        _TOKEN.c.expires_in,
        _TOKEN.c.access_token_revoked_at,
        _ACCOUNT.c.status,
        _ACCOUNT.c.public_id,
        _ACCOUNT.c.given_name,
        _ACCOUNT.c.family_name,
        _ACCOUNT.c.email,
        _ACCOUNT.c.email_verified,
        _ACCOUNT.c.locale,
        _CHILD.c.ref,
        _CHILD.c.given_name,
        _CHILD.c.family_name,
        _CHILD.c.class_level,
        _CHILD.c.school_uai,
        _SCHOOL.c.name,
    )
    .select_from(
        _TOKEN.join(_ACCOUNT, _ACCOUNT.c.id == _TOKEN.c.account_id)
        .outerjoin(_LINK, _LINK.c.account_id == _ACCOUNT.c.id)
        .outerjoin(_CHILD, _CHILD.c.id == _LINK.c.child_id)
        .outerjoin(_SCHOOL, _SCHOOL.c.uai == _CHILD.c.school_uai)
    )
    .where(_TOKEN.c.access_token == bindparam("hashed"))
    .order_by(_LINK.c.id)
)


def access_token_from_rows(rows: Sequence[Sequence[Any]]) -> AccessToken | None:
    """The AccessToken of _ACCESS_TOKEN's rows (none: no such token)."""
    if not rows:
        return None
    first = rows[0]
    pupils = tuple(claims.Pupil(*row[12:18]) for row in rows if row[12] is not None)
    person = claims.Person(*first[6:12], pupils)
    return AccessToken(*first[0:5], first[5] == ACTIVE, person)


def find_access_token(value: str) -> AccessToken | None:
    """A bearer token with its parent and the parent's children: userinfo's one statement.

    On a connection of its own, in autocommit (no BEGIN, no ROLLBACK: one round trip), not on
    the request's session: the Flask view and the WSGI fast path (idp.oidc.userinfo_fast) alike.
    """
    parameters = {"hashed": secret_hash(value)}
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        return access_token_from_rows(connection.execute(_ACCESS_TOKEN, parameters).all())


def revoke_token(token: Token, value: str) -> None:
    """RFC 7009 §2.1: revoking a refresh token revokes its grant; an access token, itself."""
    if token.access_token == secret_hash(value):
        token.access_token_revoked_at = int(time.time())
    else:
        revoke_family(token.family)
    db.session.commit()
