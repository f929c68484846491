"""'Gérer mon compte': identity, children, teleservices, sessions, password and email changes."""

from idp.flows.account.views import bp

__all__ = ["bp"]
