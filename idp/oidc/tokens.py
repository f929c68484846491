"""Storing, claiming and revoking codes and tokens, with the conditional updates that make
them single use on SQLite and PostgreSQL alike (RFC 9700 §2.1.1, §4.14).

The token endpoint runs in one transaction, committed by its view, of two statements: a code or
refresh token is claimed by one UPDATE … RETURNING (the check and the claim in one statement)
that also returns the parent with their children and schools and whether the sign-in session
has ended (scalar subqueries, JSON text), and the new tokens are one INSERT.

That path is the hottest of the provider (every sign-in to a teleservice, every refresh): it
runs prebuilt Core statements on the session's connection and hands plain frozen objects to
Authlib and the claims, not ORM instances. Building ORM objects, their identity map and the
unit of work at the flush cost more CPU than everything else the token endpoint does (issue 14).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import String, bindparam, insert, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.functions import FunctionElement

from idp import lone_statements, metrics
from idp.accounts.revocation import revoke_tokens
from idp.extensions import db
from idp.models import Account, AuthorizationCode, Child, Client, Link, LoginSession, School, Token
from idp.models.accounts import ACTIVE
from idp.models.base import utcnow
from idp.oidc import claims, disclosures
from idp.oidc.clients import cache as client_cache
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
class ParentView:
    """A parent as a grant reads them: the account's id and status, and what the claims need
    (idp.oidc.claims.Person, the same plain values userinfo builds its claims from)."""

    id: int
    status: str
    person: claims.Person

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


class _JsonArray(FunctionElement):
    """A JSON array of the arguments, as text: json_build_array on PostgreSQL, json_array on
    SQLite (3.38 and later)."""

    type = String()
    inherit_cache = True


class _JsonRows(FunctionElement):
    """An aggregate: the JSON array of one _JsonArray per row, as text ('[]' for no row)."""

    type = String()
    inherit_cache = True


@compiles(_JsonArray)
def _json_array(element, compiler, **kw) -> str:
    return f"json_array({compiler.process(element.clauses, **kw)})"


@compiles(_JsonArray, "postgresql")
def _json_array_pg(element, compiler, idp_in_json: bool = False, **kw) -> str:
    array = f"json_build_array({compiler.process(element.clauses, **kw)})"
    return array if idp_in_json else f"{array}::text"


@compiles(_JsonRows)
def _json_rows(element, compiler, **kw) -> str:
    return f"json_group_array(json({compiler.process(element.clauses, **kw)}))"


@compiles(_JsonRows, "postgresql")
def _json_rows_pg(element, compiler, **kw) -> str:
    rows = compiler.process(element.clauses, idp_in_json=True, **kw)
    return f"coalesce(json_agg({rows}), '[]')::text"


class _Qualified(FunctionElement):
    """A scalar subquery in a RETURNING clause, its columns named with their tables: SQLite's
    compiler leaves them bare there, which in a subquery would match the wrong table."""

    type = String()
    inherit_cache = True


@compiles(_Qualified)
def _qualified(element, compiler, **kw) -> str:
    kw.pop("include_table", None)
    return compiler.process(element.clauses, **kw)


_account, _link, _child, _school, _sessions = (
    model.__table__ for model in (Account, Link, Child, School, LoginSession)
)


def _subject_columns(row_table) -> tuple:
    """What the grant's tokens and claims need beside the claimed row, as scalar subqueries
    of the same UPDATE … RETURNING: the parent, their children and schools (JSON text), and
    whether the sign-in session of the grant has ended (Back-Channel Logout §2.7)."""
    parent = (
        select(
            _JsonArray(
                _account.c.id,
                _account.c.public_id,
                _account.c.given_name,
                _account.c.family_name,
                _account.c.email,
                _account.c.email_verified,
                _account.c.locale,
                _account.c.status,
            )
        )
        .where(_account.c.id == row_table.c.account_id)
        .correlate(row_table)
        .scalar_subquery()
    )
    children = (
        select(
            _JsonRows(
                _JsonArray(
                    _link.c.id,
                    _child.c.ref,
                    _child.c.given_name,
                    _child.c.family_name,
                    _child.c.class_level,
                    _child.c.school_uai,
                    _school.c.name,
                )
            )
        )
        .select_from(
            _link.join(_child, _child.c.id == _link.c.child_id).outerjoin(
                _school, _school.c.uai == _child.c.school_uai
            )
        )
        .where(_link.c.account_id == row_table.c.account_id)
        .correlate(row_table)
        .scalar_subquery()
    )
    ended_at = (
        select(_sessions.c.ended_at)
        .where(_sessions.c.id == row_table.c.login_session_id)
        .correlate(row_table)
        .scalar_subquery()
    )
    return tuple(
        _Qualified(subquery).label(name)
        for name, subquery in (("parent", parent), ("children", children), ("ended_at", ended_at))
    )


def _parent(parent_json: str | None, children_json: str | None) -> ParentView | None:
    """The ParentView from the JSON text of _subject_columns (children in Account.links'
    order, by link id); None when the account is gone."""
    if parent_json is None:
        return None
    id_, public_id, given_name, family_name, email, verified, locale, status = json.loads(
        parent_json
    )
    pupils = tuple(
        claims.Pupil(ref, given, family, level, uai, school_name)
        for _, ref, given, family, level, uai, school_name in sorted(
            json.loads(children_json or "[]")
        )
    )
    person = claims.Person(
        public_id, given_name, family_name, email, bool(verified), locale, pupils
    )
    return ParentView(id_, status, person)


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
    parent: ParentView | None = None  # None: the account is gone
    session_ended: bool = False  # its sign-in session has ended since

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
    parent: ParentView | None = None  # None: the account is gone
    session_ended: bool = False  # its sign-in session has ended since

    def check_client(self, client) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str | None:
        return self.scope


def _row_columns(table, claimed: type) -> list:
    """The columns of ``table`` named like the fields of ``claimed`` (but the subject's)."""
    return [table.c[field.name] for field in fields(claimed) if field.name in table.c]


def _claimed(claimed: type, row) -> ClaimedCode | ClaimedRefresh:
    *columns, parent_json, children_json, ended_at = row
    parent = _parent(parent_json, children_json)
    return claimed(*columns, parent=parent, session_ended=ended_at is not None)


_CLAIM_CODE = (
    update(_codes)
    .where(
        _codes.c.code == bindparam("p_hash"),
        _codes.c.client_id == bindparam("p_client"),
        _codes.c.used_at.is_(None),
    )
    .values(used_at=bindparam("p_now"))
    .returning(*_row_columns(_codes, ClaimedCode), *_subject_columns(_codes))
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
    .returning(*_row_columns(_tokens, ClaimedRefresh), *_subject_columns(_tokens))
)
_SPENT_REFRESH = select(_tokens.c.family).where(
    _tokens.c.refresh_token == bindparam("p_hash"), _tokens.c.client_id == bindparam("p_client")
)


def claim_code(code: str, client_id: str) -> ClaimedCode | None:
    """The code, if it is valid, now used, with its parent; a second presentation revokes
    what the first got. One statement when the code is valid.

    The caller (the token endpoint) commits, whether the exchange succeeds or not.
    """
    params = {"p_hash": secret_hash(code), "p_client": client_id, "p_now": int(time.time())}
    row = _execute(_CLAIM_CODE, params).first()
    if row is None:
        spent = _execute(_SPENT_CODE, params).scalar()
        if spent is not None:
            revoke_family(f"code-{spent}")
        return None
    item = _claimed(ClaimedCode, row)
    return None if item.is_expired() else item


def claim_refresh_token(refresh_token: str, client_id: str) -> ClaimedRefresh | None:
    """The token row, its refresh token now spent, with its parent; reuse of a spent one
    revokes the family. One statement when the token is valid.

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
    item = _claimed(ClaimedRefresh, row)
    return None if item.refresh_expires_at < now else item


# A plain refresh in one statement, on PostgreSQL (idp.oidc.token_fast): spend the refresh
# token if the grant still holds (unspent and unexpired, of this client, an active parent, a
# sign-in session not ended unless `offline_access`: the refresh grant's rules; every scope
# still registered for the client, `openid` among them: Client.get_allowed_scope), store
# the new tokens in the same family, and record the disclosure (idp.oidc.disclosures, scopes
# sorted by code point as Python sorts them). Atomic by itself, so in autocommit: one round
# trip instead of BEGIN, two statements and COMMIT. No row: nothing changed, and the grant
# then gives the RFC 6749 answer.
ROTATION_SQL = """
WITH claimed AS (
    UPDATE token SET refresh_token_revoked_at = %(now)s
    WHERE refresh_token = %(hashed)s AND client_id = %(client_id)s
        AND refresh_token_revoked_at = 0 AND refresh_expires_at >= %(now)s
        AND string_to_array(scope, ' ') <@ %(allowed)s::text[]
        AND 'openid' = ANY(string_to_array(scope, ' '))
        AND EXISTS (
            SELECT 1 FROM account
            WHERE account.id = token.account_id AND account.status = %(active)s
        )
        AND (token.offline OR NOT EXISTS (
            SELECT 1 FROM login_session
            WHERE login_session.id = token.login_session_id
                AND login_session.ended_at IS NOT NULL
        ))
    RETURNING account_id, login_session_id, offline, family, scope
), issued AS (
    INSERT INTO token (
        client_id, account_id, login_session_id, offline, family, token_type, access_token,
        refresh_token, refresh_expires_at, scope, issued_at, expires_in,
        access_token_revoked_at, refresh_token_revoked_at
    )
    SELECT %(client_id)s, account_id, login_session_id, offline, family, %(token_type)s,
        %(access_token)s, %(refresh_token)s, %(refresh_expires_at)s, scope, %(now)s,
        %(expires_in)s, 0, 0
    FROM claimed
    RETURNING account_id, scope
), disclosed AS (
    INSERT INTO disclosure (account_id, client_id, scope, first_at, last_at)
    SELECT account_id, %(client_id)s, coalesce((
            SELECT string_agg(DISTINCT name COLLATE "C", ' ' ORDER BY name COLLATE "C")
            FROM unnest(string_to_array(issued.scope, ' ')) AS scopes(name) WHERE name <> ''
        ), ''), %(now_at)s, %(now_at)s
    FROM issued
    ON CONFLICT (account_id, client_id, scope) DO UPDATE SET last_at = EXCLUDED.last_at
        WHERE disclosure.last_at < %(stale_at)s
)
SELECT scope FROM issued
"""


def rotate_refresh_token(value: str, client: Client) -> dict | None:
    """PostgreSQL: spend a refresh token and store new tokens in its place, in one statement;
    the token response (Authlib's members), or None when nothing was changed.

    Only where Authlib would issue the same scope: every scope of the grant still registered
    for the client, `openid` among them (Client.get_allowed_scope; scopes are stored as it
    returned them, so never repeated). Otherwise the grant decides."""
    now = int(time.time())
    now_at = utcnow()
    token = {
        "token_type": "Bearer",
        "access_token": new_token(),
        "refresh_token": new_token(),
        "expires_in": current_app.config["OAUTH2_TOKEN_EXPIRES_IN"]["refresh_token"],
    }
    params = {
        "hashed": secret_hash(value),
        "client_id": client.client_id,
        "allowed": sorted(set(client.scope.split())),
        "now": now,
        "active": ACTIVE,
        "token_type": token["token_type"],
        "access_token": secret_hash(token["access_token"]),
        "refresh_token": secret_hash(token["refresh_token"]),
        "refresh_expires_at": now + current_app.config["REFRESH_TOKEN_TTL"],
        "expires_in": token["expires_in"],
        "now_at": now_at,
        "stale_at": now_at - disclosures.REFRESH_EVERY,
    }
    found = lone_statements.postgresql_rows(ROTATION_SQL, params)
    if not found:
        return None
    metrics.TOKENS.labels(grant="refresh_token").inc()
    token["scope"] = found[0][0]
    return token


def with_children():
    """Loader options: an account with its children and their schools, in the same SELECT."""
    return joinedload(Account.links).joinedload(Link.child)


_INSERT_TOKEN = insert(_tokens).inline()  # no RETURNING of the new id: nothing reads it


def save_token(token: dict, grant_type: str, client_id: str, subject, family: str) -> None:
    """Store a token response for ``subject`` (a grants.Subject: account, sign-in session),
    counted in the metrics (tokens are not audited one by one, issue 14)."""
    metrics.TOKENS.labels(grant=grant_type or "unknown").inc()
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

    A lone statement (idp.lone_statements: no BEGIN, no ROLLBACK, one round trip), not on the
    request's session: the Flask view and the WSGI fast path (idp.oidc.userinfo_fast) alike.
    """
    return access_token_from_rows(
        lone_statements.rows(_ACCESS_TOKEN, {"hashed": secret_hash(value)})
    )


def revoke_token(token: Token, value: str) -> None:
    """RFC 7009 §2.1: revoking a refresh token revokes its grant; an access token, itself."""
    if token.access_token == secret_hash(value):
        token.access_token_revoked_at = int(time.time())
    else:
        revoke_family(token.family)
    db.session.commit()
