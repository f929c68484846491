"""What the logout confirmation page needs: the teleservices the session let in, and the
request's parameters carried through the confirmation (RP-Initiated Logout 1.0 §2)."""

from __future__ import annotations

from sqlalchemy import select

from idp.accounts.revocation import clients_of
from idp.extensions import db
from idp.models import Client, LoginSession

PASSED_ON = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


def client_names(login_session: LoginSession) -> list[str]:
    """The names of the teleservices that received tokens in this session, sorted."""
    client_ids = clients_of([login_session.id]).get(login_session.id, [])
    if not client_ids:
        return []
    found = db.session.scalars(select(Client).where(Client.client_id.in_(client_ids)))
    return sorted(client.name for client in found)


def passed_on(end_request) -> dict[str, str]:
    """The logout request's own parameters, for the confirmation form to send back."""
    data = end_request.request.payload.data
    return {name: data[name] for name in PASSED_ON if isinstance(data.get(name), str)}
