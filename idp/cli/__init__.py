"""The `idp` command line (docs/contract.md §2): thin wrappers over the service functions.

Every command exits 0 on success, 1 with one line on stderr on failure; with `--json` it prints
exactly one JSON document on stdout.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from idp.config import ConfigError
from idp.oidc.clients import ClientError
from idp.oidc.keys import KeysUnavailable
from idp.provisioning.accounts import ProvisioningError

FAILURES = (ConfigError, ProvisioningError, ClientError, KeysUnavailable, SQLAlchemyError, OSError)


def _fail(message: str) -> None:
    click.echo(f"idp: {message}".splitlines()[0], err=True)
    sys.exit(1)


def with_app(command: Callable) -> Callable:
    """Run the command inside an application context; failures become one line on stderr."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from idp import create_app

        try:
            app = create_app()
            with app.app_context():
                return command(app, *args, **kwargs)
        except FAILURES as error:
            if isinstance(error, SQLAlchemyError):
                reason = getattr(error, "orig", None) or error
                _fail(f"database error: {error.__class__.__name__}: {reason}")
            _fail(str(error))
        except Exception as error:  # never a traceback for an operator: one line, exit 1
            _fail(f"unexpected error: {error.__class__.__name__}: {error}")

    return wrapper


def emit(as_json: bool, document: Any, text: str) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2) if as_json else text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


class OneLineGroup(click.Group):
    """click's usage errors as one `idp:` line on stderr too, never its banner
    (docs/contract.md §2)."""

    def main(self, args=None, prog_name=None, **extra: Any) -> Any:
        try:
            status = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "idp"
            click.echo(f"idp: {error.format_message()} (see '{command} --help')", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"idp: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("idp: aborted", err=True)
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)


@click.group(cls=OneLineGroup)
def main() -> None:
    """Identity provider for parents of school children."""
    from idp import logs

    log_format = "json" if os.environ.get("IDP_LOG_FORMAT") == "json" else "text"
    logs.configure(log_format, logging.WARNING)


@main.command()
@with_app
def init(app: Flask) -> None:
    """Create or upgrade the schema; create signing keys if there are none."""
    from idp import bootstrap

    revision = bootstrap.upgrade_schema()
    created = bootstrap.ensure_signing_keys(app)
    keys_note = "signing keys created" if created else "signing keys present"
    click.echo(f"database at revision {revision}; {keys_note} in {app.config['KEYS_DIR']}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(1, 64), help="Serve with gunicorn, N processes.")
@with_app
def serve(app: Flask, host: str, port: int, workers: int | None) -> None:
    """Serve the provider (gunicorn when --workers is given)."""
    from idp.cli.servers import serve_for_development, serve_with_gunicorn

    if workers and workers > 1 and not app.config["REDIS_URL"]:
        # Throttling counters in process memory would be per worker: an unknown identifier
        # spread over workers is never slowed down, the per-address limits are multiplied.
        raise ConfigError(
            "--workers above 1 needs IDP_REDIS_URL: the throttling counters must be shared"
        )
    if workers:
        serve_with_gunicorn(app, host, port, workers)
    else:
        serve_for_development(app, host, port)


from idp.cli import accounts, audit, clients, demo, families, keys, purge, staff, worker  # noqa: E402

main.add_command(accounts.group)
main.add_command(clients.group)
main.add_command(keys.group)
main.add_command(demo.demo)
main.add_command(families.group)
main.add_command(audit.audit)
main.add_command(purge.purge)
main.add_command(staff.group)
main.add_command(worker.worker)
