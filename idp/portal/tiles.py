"""What the portal offers for each child: the teleservices registered with an
``initiate_login_uri`` that serve the child's school, each opened by a third-party-initiated
login (OpenID Connect Core §4).

A tile's link goes to the teleservice's ``initiate_login_uri`` with ``iss`` (this provider) and,
when it registered a child page, ``target_link_uri``: that page with ``{child}`` replaced by the
child's `sub` as that teleservice sees it (the school reference, or its pairwise pseudonym).
The teleservice then sends the browser to /authorize, which completes by SSO.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from authlib.common.urls import add_params_to_uri
from flask import current_app
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, Child, Client
from idp.oidc.claims import child_subject
from idp.oidc.clients.metadata import CHILD_PLACEHOLDER


@dataclass(frozen=True)
class Tile:
    client_id: str
    name: str
    description: str
    url: str


@dataclass(frozen=True)
class ChildSection:
    child: Child
    tiles: list[Tile]


def portal_clients() -> list[Client]:
    """Teleservices offered on the portal: national ones (no school limit, the LSU among
    them) first, then the schools' own, each group in registration order."""
    found = db.session.scalars(select(Client).order_by(Client.id))
    offered = [client for client in found if client.client_metadata.get("initiate_login_uri")]
    return sorted(offered, key=lambda client: bool(client.schools))


def login_url(client: Client, child: Child) -> str:
    """The third-party-initiated login for this child (OpenID Connect Core §4)."""
    metadata = client.client_metadata
    params = {"iss": current_app.config["ISSUER"]}
    page = metadata.get("child_page_uri")
    if page:
        sub = quote(child_subject(child, client), safe="")
        params["target_link_uri"] = page.replace(CHILD_PLACEHOLDER, sub)
    return add_params_to_uri(metadata["initiate_login_uri"], params)


def sections(account: Account) -> list[ChildSection]:
    """One section per child of the account, with the teleservices offered for that child."""
    clients = portal_clients()
    return [
        ChildSection(
            child,
            [
                Tile(
                    client.client_id,
                    client.name,
                    client.client_metadata.get("description", ""),
                    login_url(client, child),
                )
                for client in clients
                if client.serves(child.school_uai)
            ],
        )
        for child in account.children
    ]
