"""`idp keys rotate`: a new signing key, picked up by running processes without a restart."""

from __future__ import annotations

import click
from flask import Flask

from idp.cli import emit, json_option, with_app


@click.group("keys")
def group() -> None:
    """Signing keys."""


@group.command("rotate")
@json_option
@with_app
def rotate(app: Flask, as_json: bool) -> None:
    """Add a new key of each algorithm and sign with it; older keys stay published."""
    store = app.extensions["idp_keys"]
    kids = store.add_keys()
    published = [key["kid"] for key in store.public_jwks()["keys"]]
    document = {"signing_kids": kids, "published_kids": published}
    emit(as_json, document, f"signing with {', '.join(kids)}; {len(published)} keys published")
