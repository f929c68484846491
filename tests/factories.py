"""Accounts, children and clients in one line."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask

from idp.extensions import db
from idp.models import Account, Client
from idp.models.accounts import ACTIVE
from idp.models.base import utcnow
from idp.oidc.clients import registry
from idp.passwords import hash_password
from idp.provisioning import accounts

PASSWORD = "Cartable-Bleu-2026"
CHILDREN = [
    accounts.ChildSpec("Noé", "Lefèvre", date(2016, 2, 14), "0751234J", "CE2", "École Jules-Ferry"),
    accounts.ChildSpec("Inès", "Lefèvre", date(2018, 9, 3), "0751234J", "CP", "École Jules-Ferry"),
]
REDIRECT_URI = "https://lsu.example.org/callback"


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def account(
        self,
        status: str = ACTIVE,
        password: str = PASSWORD,
        children: list[accounts.ChildSpec] | None = None,
        given_name: str = "Anaïs",
        family_name: str = "Lefèvre",
        email: str | None = "anais@example.org",
        provisional_expired: bool = False,
    ) -> tuple[Account, str]:
        """An account with its children; returns it and the password that signs it in."""
        specs = CHILDREN if children is None else children
        specs = [
            accounts.ChildSpec(**{**spec.__dict__, "ref": spec.ref or accounts.new_child_ref()})
            for spec in specs
        ]
        account, _ = accounts.create_account(given_name, family_name, specs)
        account.password_hash = hash_password(password)
        account.status = status
        if status == ACTIVE:
            account.email, account.email_verified = email, True
        if provisional_expired:
            account.provisional_expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
        return account, password

    def client(self, **options) -> tuple[Client, str | None]:
        """A registered teleservice (confidential, public subjects, every scope by default)."""
        options.setdefault("redirect_uris", [REDIRECT_URI])
        options.setdefault("post_logout_redirect_uris", ["https://lsu.example.org/"])
        name = options.pop("name", "LSU de test")
        return registry.register_client(name, **options)
