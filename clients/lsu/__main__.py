"""Serve the demo teleservice: ``python -m clients.lsu`` (LSU_HOST, LSU_PORT)."""

from __future__ import annotations

import logging
import os
import sys

from . import ConfigError, create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except ConfigError as exc:
        sys.exit(f"lsu: configuration error: {exc}")
    host = os.environ.get("LSU_HOST", "127.0.0.1")
    port_text = os.environ.get("LSU_PORT", "5001")
    if not port_text.isdigit():
        sys.exit(f"lsu: configuration error: LSU_PORT must be a port number, got {port_text!r}")
    app.run(host=host, port=int(port_text))


if __name__ == "__main__":
    main()
