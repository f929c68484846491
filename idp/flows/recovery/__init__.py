"""Self-help from the login page: a forgotten identifier, a forgotten password (mailed link)."""

from idp.flows.recovery.views import bp

__all__ = ["bp"]
