"""Livret scolaire unique (démonstration): a demo relying party of the parent identity provider."""

from .app import create_app
from .config import ConfigError

__all__ = ["ConfigError", "create_app"]
