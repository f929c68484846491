"""Serve the demo teleservice: ``python -m clients.lsu`` (LSU_HOST, LSU_PORT)."""

from __future__ import annotations

from clients.rp.app import serve

from . import create_app

if __name__ == "__main__":
    serve("lsu", "LSU", "5001", create_app)
