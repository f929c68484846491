"""`idp purge`: delete what has expired and apply the retention rules (idp.retention)."""

from __future__ import annotations

import click
from flask import Flask

from idp.cli import emit, json_option, with_app


@click.command("purge")
@json_option
@with_app
def purge(app: Flask, as_json: bool) -> None:
    """Delete what has expired past its grace period and apply the retention rules.

    Safe to run while serving, e.g. from cron once a day. Prints how many of each kind.
    """
    from idp import retention

    counts = retention.purge()
    width = max(len(name) for name in counts)
    text = "\n".join(
        f"{name.replace('_', ' '):<{width}}  {count}" for name, count in counts.items()
    )
    emit(as_json, counts, text)
