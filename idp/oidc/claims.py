"""Claims by scope (docs/contract.md §3): one function per scope, and the subjects a client sees.

A `public` client sees the parent's stable opaque id and each child's school reference. A
`pairwise` client sees per-client pseudonyms for both (OpenID Connect Core §8.1), so that two
pairwise clients can't correlate a parent or a child.

Claims are built from a `Person`, a plain copy of what they need: the ID token makes one from the
account it loaded (`Person.of`), userinfo straight from the rows of its one SELECT
(idp.oidc.tokens.find_access_token), without ORM objects. One builder serves both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, NamedTuple

from authlib.oauth2.rfc6749 import scope_to_list
from authlib.oidc.core import UserInfo

from idp.models import Account, Child, Client
from idp.models.oauth import PAIRWISE
from idp.passwords import derived_key


class Pupil(NamedTuple):
    """What a child's claims need (a `Child` and its `School`, as plain values)."""

    ref: str
    given_name: str
    family_name: str
    class_level: str
    school_uai: str
    school_name: str | None


class Person(NamedTuple):
    """What a parent's claims need: the account's fields and the children, in link order."""

    public_id: str
    given_name: str
    family_name: str
    email: str | None
    email_verified: bool
    locale: str | None
    children: tuple[Pupil, ...]

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @classmethod
    def of(cls, account: Account) -> Person:
        """The plain copy of an account loaded with its children (tokens.with_children)."""
        return cls(
            account.public_id,
            account.given_name,
            account.family_name,
            account.email,
            account.email_verified,
            account.locale,
            tuple(
                Pupil(
                    child.ref,
                    child.given_name,
                    child.family_name,
                    child.class_level,
                    child.school_uai,
                    child.school.name,
                )
                for child in account.children
            ),
        )


def _pseudonym(client: Client, kind: str, local_id: str) -> str:
    key = derived_key(b"idp pairwise subject")
    message = f"{client.client_id}|{kind}|{local_id}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def parent_subject(account: Account | Person, client: Client) -> str:
    if client.subject_type == PAIRWISE:
        return _pseudonym(client, "parent", account.public_id)
    return account.public_id


def is_subject(sub: str, account: Account | Person, client: Client) -> bool:
    """Whether ``sub`` is the parent as this client sees them (an ID token hint's subject)."""
    return hmac.compare_digest(sub.encode(), parent_subject(account, client).encode())


def child_subject(child: Child | Pupil, client: Client) -> str:
    if client.subject_type == PAIRWISE:
        return _pseudonym(client, "child", child.ref)
    return child.ref


def session_id(login_session_id: str, client: Client) -> str:
    """The `sid` a client sees for a sign-in session (OpenID Connect Back-Channel Logout 1.0
    §2.1): a per-client pseudonym, so that two clients can't correlate a parent by session and
    the session's own key never leaves the provider."""
    return _pseudonym(client, "session", login_session_id)


def openid(person: Person, client: Client) -> dict[str, Any]:
    return {"sub": parent_subject(person, client)}


def profile(person: Person, client: Client) -> dict[str, Any]:
    return {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "name": person.name,
        # OIDC Core §5.1: the language of the parent's pages, so that a teleservice follows it.
        "locale": person.locale or "fr",
    }


def email(person: Person, client: Client) -> dict[str, Any]:
    return {"email": person.email, "email_verified": person.email_verified}


def children(person: Person, client: Client) -> dict[str, Any]:
    return {
        "children": [
            {
                "sub": child_subject(child, client),
                "given_name": child.given_name,
                "family_name": child.family_name,
                "school": {"uai": child.school_uai, "name": child.school_name},
                "class_level": child.class_level,
            }
            for child in person.children
            if client.serves(child.school_uai)  # a school's service learns of no sibling elsewhere
        ]
    }


SCOPES: dict[str, Callable[[Person, Client], dict[str, Any]]] = {
    "openid": openid,
    "profile": profile,
    "email": email,
    "children": children,
}


def user_info(account: Account | Person, client: Client, scope: str) -> UserInfo:
    """The claims of every granted scope, for the ID token and the userinfo endpoint alike."""
    person = account if isinstance(account, Person) else Person.of(account)
    claims: dict[str, Any] = {}
    for name in scope_to_list(scope) or []:
        if name in SCOPES:
            claims.update(SCOPES[name](person, client))
    return UserInfo(claims)
