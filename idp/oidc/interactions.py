"""Pending authorization requests: saved while the parent signs in or activates, resumed once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from idp.extensions import db
from idp.models import Interaction
from idp.models.base import utcnow

LIFETIME = timedelta(hours=1)  # long enough for an activation with its confirmation mail


def save(query: str, client_id: str, browser_id: str) -> Interaction:
    """Keep the request; expired ones, abandoned by their browsers, go at the same time."""
    db.session.execute(delete(Interaction).where(Interaction.expires_at < utcnow()))
    interaction = Interaction(
        query=query,
        client_id=client_id,
        browser_id=browser_id,
        expires_at=utcnow() + LIFETIME,
    )
    db.session.add(interaction)
    db.session.commit()
    return interaction


def peek(interaction_id: str | None, browser_id: str) -> Interaction | None:
    """The live interaction of this browser, left in place (to show which teleservice waits)."""
    if not interaction_id:
        return None
    interaction = db.session.get(Interaction, interaction_id)
    if interaction is None or interaction.browser_id != browser_id:
        return None
    if interaction.expires_at < utcnow():
        return None
    return interaction


def take(interaction_id: str, browser_id: str) -> Interaction | None:
    """Remove and return the interaction; a second take, or another browser, gets None."""
    interaction = peek(interaction_id, browser_id)
    if interaction is None:
        return None
    deleted = db.session.execute(delete(Interaction).where(Interaction.id == interaction.id))
    db.session.commit()
    return interaction if deleted.rowcount == 1 else None
