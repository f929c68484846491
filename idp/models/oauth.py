"""Relying clients, authorization codes and tokens, on Authlib's SQLAlchemy mixins.

Codes, access tokens, refresh tokens and client secrets are stored as keyed hashes only
(``idp.passwords.secret_hash``): a copy of the database gives nothing that can be presented.
"""

from __future__ import annotations

import time

from authlib.integrations.sqla_oauth2 import (
    OAuth2AuthorizationCodeMixin,
    OAuth2ClientMixin,
    OAuth2TokenMixin,
)
from authlib.oauth2.rfc6749 import scope_to_list
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.accounts import Account
from idp.passwords import secret_matches

PUBLIC = "public"
PAIRWISE = "pairwise"


class Client(db.Model, OAuth2ClientMixin):
    """A relying teleservice, registered by an administrator and trusted (no consent page)."""

    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id = mapped_column(String(48), unique=True, nullable=False)
    client_secret = mapped_column(String(120))  # keyed hash; NULL for public clients
    # RFC 7592: the keyed hash of the token that manages this registration (dynamic clients).
    registration_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    @property
    def name(self) -> str:
        return self.client_metadata.get("client_name", self.client_id)

    @property
    def subject_type(self) -> str:
        return self.client_metadata.get("subject_type", PUBLIC)

    @property
    def schools(self) -> list[str]:
        """The UAIs the teleservice is limited to; empty: every school."""
        return list(self.client_metadata.get("schools") or [])

    def serves(self, school_uai: str) -> bool:
        return not self.schools or school_uai in self.schools

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"  # noqa: S105 (a method name)

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client_secret) and secret_matches(client_secret, self.client_secret)

    def get_allowed_scope(self, scope: str) -> str | None:
        """Scopes are fixed at registration: asking for one more is `invalid_scope` (None).

        `offline_access` is the exception: a client not registered for it is not granted it
        (OpenID Connect Core §11), and its tokens end with the sign-in session."""
        allowed = set(scope_to_list(self.scope) or [])
        requested = [
            name
            for name in scope_to_list(scope) or []
            if name != "offline_access" or name in allowed
        ]
        if "openid" not in requested or not set(requested) <= allowed:
            return None
        return " ".join(dict.fromkeys(requested))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return self.token_endpoint_auth_method == method


class AuthorizationCode(db.Model, OAuth2AuthorizationCodeMixin):
    """An issued code. `code` holds its keyed hash; `used_at` makes it single use."""

    __tablename__ = "authorization_code"
    # exists_nonce(): a nonce already used with this client is a replay (OIDC Core §15.5.2).
    __table_args__ = (Index("ix_authorization_code_client_nonce", "client_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    login_session_id: Mapped[str | None] = mapped_column(String(32), index=True)
    expires_at: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[int | None] = mapped_column(Integer)

    account: Mapped[Account] = relationship()

    @property
    def family(self) -> str:
        """The grant family: every token issued from this code, and their rotations."""
        return f"code-{self.id}"

    def is_expired(self) -> bool:
        return self.expires_at < time.time()


class Token(db.Model, OAuth2TokenMixin):
    """An access token and, for confidential clients, a refresh token (both as keyed hashes)."""

    __tablename__ = "token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(40), index=True)
    refresh_expires_at: Mapped[int] = mapped_column(Integer, default=0)
    # The sign-in session the grant was made in (what back-channel logout reports), and whether
    # it holds `offline_access`: without it, the tokens end with that session (BCL 1.0 §2.7).
    login_session_id: Mapped[str | None] = mapped_column(String(32), index=True)
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    account: Mapped[Account] = relationship()

    def is_revoked(self) -> bool:
        """Whether the *access* token is revoked; a rotated refresh token leaves it usable."""
        return bool(self.access_token_revoked_at)

    def get_user(self) -> Account:
        return self.account

    def get_client(self) -> Client | None:
        return db.session.scalar(db.select(Client).filter_by(client_id=self.client_id))


class InitialAccessToken(db.Model):
    """RFC 7591 §3: what an administrator's tool presents to register a client. Single use."""

    __tablename__ = "initial_access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(Integer, default=lambda: int(time.time()))
    expires_at: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[int | None] = mapped_column(Integer)
