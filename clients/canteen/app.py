"""Application factory of the canteen demo teleservice."""

from __future__ import annotations

from typing import Any

from flask import Flask

from clients.rp import build_app, load_settings

from .views import bp

SCOPE = "openid profile children"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5002"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """``config`` overrides the environment (same ``CANTEEN_*`` keys); other keys go to
    ``app.config`` as-is."""
    overrides = dict(config or {})
    settings = load_settings("CANTEEN", DEFAULT_PUBLIC_URL, overrides)
    extra = {k: v for k, v in overrides.items() if not k.startswith("CANTEEN_")}
    return build_app(__name__, settings, bp, "canteen_session", SCOPE, extra)
