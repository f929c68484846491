"""The in-process sender: a thread per serving process, woken when a queueing commit ends."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import event as sqla_event
from sqlalchemy.orm import Session

from idp.extensions import db
from idp.outbox.delivery import POLL_INTERVAL, WAKE, drain

log = logging.getLogger(__name__)

_senders: set[Sender] = set()
_senders_lock = threading.Lock()


class Sender:
    """A thread that delivers due rows for ``app``: woken by ``wake()``, else every interval."""

    def __init__(self, app: Flask, interval: float = POLL_INTERVAL) -> None:
        self.app = app
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idp-outbox", daemon=True)

    def start(self) -> Sender:
        with _senders_lock:
            _senders.add(self)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the delivery under way (never cut an SMTP conversation), then stop."""
        with _senders_lock:
            _senders.discard(self)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                with self.app.app_context():
                    try:
                        drain(stop=self._stop)
                    finally:
                        db.session.remove()
            except Exception:  # the database is down, say: try again at the next round
                log.exception("outbox sender round failed")
            self._wake.wait(self.interval)


def start_sender(app: Flask, interval: float = POLL_INTERVAL) -> Sender:
    """Start an in-process sender for ``app`` (one per process: `idp serve`, each worker)."""
    return Sender(app, interval).start()


def wake() -> None:
    """Nudge the in-process senders: something was queued and committed."""
    with _senders_lock:
        senders = list(_senders)
    for sender in senders:
        sender.wake()


def _after_commit(session: Session) -> None:
    if session.info.pop(WAKE, False):
        wake()


def _after_rollback(session: Session) -> None:
    session.info.pop(WAKE, None)


sqla_event.listen(Session, "after_commit", _after_commit)
sqla_event.listen(Session, "after_rollback", _after_rollback)
