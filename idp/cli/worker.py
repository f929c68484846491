"""`idp worker`: deliver what is queued in the outbox (mails, logout tokens), in a process of
its own. `idp serve` delivers too; run workers when serving processes should not, or for more.

A running worker also applies the retention rules (`idp purge`) when it starts and once a day
after that: a deployment with a worker needs no cron. Several workers purging at once is safe.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from idp import outbox, retention
from idp.cli import emit, json_option, with_app
from idp.extensions import db

log = logging.getLogger(__name__)
PURGE_EVERY = 86400  # seconds


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (tests, cron).")
@click.option(
    "--interval",
    default=outbox.POLL_INTERVAL,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds between two looks for due rows.",
)
@json_option
@with_app
def worker(app: Flask, once: bool, interval: float, as_json: bool) -> None:
    """Deliver queued mails and logout tokens, with retries; Ctrl-C or SIGTERM stops cleanly."""
    if once:
        sent = outbox.drain()
        _report(as_json, sent)
        return
    stop = threading.Event()
    sent = 0
    purged_at = None
    with _stopped_by_signals(stop):
        click.echo("idp worker: delivering (Ctrl-C stops)", err=True)
        while not stop.is_set():
            purged_at = _purge_when_due(purged_at)
            sent += _round(stop)
            stop.wait(interval)
    _report(as_json, sent)


def _round(stop: threading.Event) -> int:
    """One look for due rows; a database outage is logged and waited out, never fatal."""
    try:
        return outbox.drain(stop=stop)
    except SQLAlchemyError as error:
        log.error("outbox round failed: %s", error.__class__.__name__)
        return 0
    finally:
        db.session.remove()


def _purge_when_due(last: float | None) -> float | None:
    """The retention rules at start, then once a day; a failure is logged and tried again at
    the next round. Returns when they last ran."""
    if last is not None and time.monotonic() - last < PURGE_EVERY:
        return last
    try:
        counts = retention.purge()
    except SQLAlchemyError as error:
        log.error("purge failed: %s", error.__class__.__name__)
        return last
    finally:
        db.session.remove()
    log.info("purged: %s", ", ".join(f"{name} {n}" for name, n in counts.items() if n))
    return time.monotonic()


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM end the loop after the delivery under way (never mid-conversation)."""

    def handle(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _report(as_json: bool, sent: int) -> None:
    state = outbox.counts()
    document = {"sent": sent, "pending": state["pending"], "failed": state["failed"]}
    text = f"{sent} delivered; {state['pending']} pending, {state['failed']} failed"
    emit(as_json, document, text)
