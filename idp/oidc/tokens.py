"""Storing, claiming and revoking codes and tokens, with the conditional updates that make
them single use on SQLite and PostgreSQL alike (RFC 9700 §2.1.1, §4.14)."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import or_, select, update

from idp.accounts.revocation import revoke_tokens
from idp.extensions import db
from idp.models import AuthorizationCode, Token
from idp.oidc import disclosures
from idp.passwords import secret_hash


def _claim(model: type[AuthorizationCode] | type[Token], row_id: int, column: str) -> bool:
    """Set ``column`` to now where it is still unset; True if this call was the one that did."""
    unset = getattr(model, column).is_(None) if column == "used_at" else getattr(model, column) == 0
    result = db.session.execute(
        update(model).where(model.id == row_id, unset).values({column: int(time.time())})
    )
    return result.rowcount == 1


def revoke_family(family: str) -> None:
    """Revoke every access and refresh token descended from one code."""
    revoke_tokens(Token.family == family)


def claim_code(code: str, client_id: str) -> AuthorizationCode | None:
    """The code, if it is valid, now used; a second presentation revokes what the first got."""
    item = db.session.scalar(
        select(AuthorizationCode).filter_by(code=secret_hash(code), client_id=client_id)
    )
    if item is None:
        return None
    claimed = _claim(AuthorizationCode, item.id, "used_at")
    if not claimed:
        revoke_family(item.family)
    db.session.commit()
    if not claimed or item.is_expired():
        return None
    return item


def claim_refresh_token(refresh_token: str, client_id: str) -> Token | None:
    """The token row, its refresh token now spent; reuse of a spent one revokes the family."""
    item = db.session.scalar(
        select(Token).filter_by(refresh_token=secret_hash(refresh_token), client_id=client_id)
    )
    if item is None:
        return None
    claimed = _claim(Token, item.id, "refresh_token_revoked_at")
    if not claimed:
        revoke_family(item.family)
    db.session.commit()
    if not claimed or item.refresh_expires_at < time.time():
        return None
    return item


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
    db.session.add(item)
    disclosures.record(subject.account.id, client_id, item.scope)
    db.session.commit()
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


def revoke_token(token: Token, value: str) -> None:
    """RFC 7009 §2.1: revoking a refresh token revokes its grant; an access token, itself."""
    if token.access_token == secret_hash(value):
        token.access_token_revoked_at = int(time.time())
    else:
        revoke_family(token.family)
    db.session.commit()
