"""Serve the demo teleservice: ``python -m clients.lsu`` (LSU_HOST, LSU_PORT)."""

from __future__ import annotations

import logging
import os
import sys
import time
import urllib.request

from . import ConfigError, create_app
from .app import SETTINGS_KEY


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
    wait_for_provider(app.extensions[SETTINGS_KEY].discovery_url)
    app.run(host=host, port=int(port_text))


def wait_for_provider(url: str, seconds: float = 30) -> None:
    """Answer only once the provider does (``make run`` starts both at once)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our config
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            logging.warning("lsu: the provider at %s does not answer; starting anyway", url)
            return
        time.sleep(0.3)


if __name__ == "__main__":
    main()
