"""Cantine scolaire (démonstration): a second demo teleservice, pairwise and limited to one
school, sharing the provider session with the LSU."""

from clients.rp import ConfigError

from .app import create_app

__all__ = ["ConfigError", "create_app"]
