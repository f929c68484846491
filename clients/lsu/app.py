"""Application factory of the LSU demo teleservice."""

from __future__ import annotations

from typing import Any

from flask import Flask

from clients.rp import build_app, load_settings

from .views import bp

SCOPE = "openid profile email children"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5001"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """``config`` overrides the environment (same ``LSU_*`` keys); other keys go to
    ``app.config`` as-is (e.g. ``TESTING``)."""
    overrides = dict(config or {})
    settings = load_settings("LSU", DEFAULT_PUBLIC_URL, overrides)
    extra = {k: v for k, v in overrides.items() if not k.startswith("LSU_")}
    return build_app(__name__, settings, bp, "lsu_session", SCOPE, extra)
