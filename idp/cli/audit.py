"""`idp audit`: the audit trail, filtered, oldest of the shown events first."""

from __future__ import annotations

import json

import click
from flask import Flask

from idp.cli import emit, json_option, with_app
from idp.provisioning import audit_log


def _line(info: dict) -> str:
    details = json.dumps(info["details"], ensure_ascii=False, sort_keys=True)
    fields = [info["at"], info["event"], info["identifier"], info["client_id"], info["ip_address"]]
    return "  ".join(value or "-" for value in fields) + f"  {details}"


@click.command("audit")
@click.option("--identifier", help="Only this parent account's events.")
@click.option("--client", "client_id", help="Only this teleservice's events (client_id).")
@click.option("--since", help="From this date: YYYY-MM-DD, JJ/MM/AAAA or an ISO datetime (UTC).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=audit_log.DEFAULT_LIMIT,
    show_default=True,
    help="Show the latest N matching events.",
)
@json_option
@with_app
def audit(
    app: Flask,
    identifier: str | None,
    client_id: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Who did what, when, from where (never a password, token or secret)."""
    start = audit_log.parse_since(since) if since is not None else None
    rows = audit_log.list_events(identifier, client_id, start, limit)
    infos = [audit_log.describe_event(event, account) for event, account in rows]
    emit(as_json, infos, "\n".join(_line(info) for info in infos) or "no events")
