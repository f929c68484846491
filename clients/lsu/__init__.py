"""Livret scolaire unique (démonstration): a demo relying party of the parent identity provider."""

from clients.rp import ConfigError

from .app import create_app

__all__ = ["ConfigError", "create_app"]
