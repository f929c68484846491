"""Storing, claiming and revoking codes and tokens, with the conditional updates that make
them single use on SQLite and PostgreSQL alike (RFC 9700 §2.1.1, §4.14).

The token endpoint runs in one transaction, committed by its view: a code or refresh token is
claimed by one UPDATE … RETURNING (the check and the claim in one statement), the parent is
read with their children in one SELECT, the new tokens are one INSERT.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from flask import current_app
from sqlalchemy import literal, or_, select, update
from sqlalchemy.orm import joinedload

from idp.accounts.revocation import revoke_tokens
from idp.extensions import db
from idp.models import Account, AuthorizationCode, Link, LoginSession, Token
from idp.oidc import disclosures
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
