"""Serve the canteen demo: ``python -m clients.canteen`` (CANTEEN_HOST, CANTEEN_PORT)."""

from __future__ import annotations

from clients.rp.app import serve

from . import create_app

if __name__ == "__main__":
    serve("canteen", "CANTEEN", "5002", create_app)
