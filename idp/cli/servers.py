"""`idp serve`: the development server, or gunicorn with `--workers N`.

Both log the path of each request without its query string, which may carry codes, and with
mailed-link tokens masked (idp.logs); gunicorn's error log is masked too. Each serving process
runs an outbox sender thread (idp.outbox): one `serve` delivers its own mails.
"""

from __future__ import annotations

import signal
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger
from werkzeug.serving import WSGIRequestHandler, run_simple

from idp import logs, outbox

THREADS = 2
# Query strings may carry codes: log the path only.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


class MaskedGunicornLogger(GunicornLogger):
    """Gunicorn's access and error logs, with secrets masked and in IDP_LOG_FORMAT."""

    log_format = "text"

    def atoms(self, resp, req, environ: dict, request_time) -> dict[str, Any]:
        """Only the atoms ACCESS_LOG_FORMAT uses. Gunicorn's own builds some twenty and one per
        request and response header for every line: ~7 % of a userinfo call (issue 14)."""
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "s": status,
            "b": "-" if sent is None else str(sent),
            "L": f"{request_time.seconds}.{request_time.microseconds:06d}",
        }

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                json_wanted = self.log_format == "json"
                logs.protect(handler, "json" if json_wanted else None)


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def serve_with_gunicorn(
    app: Flask, host: str, port: int, workers: int, *, outbox_sender: bool = True
) -> None:
    """Gunicorn with `idp serve`'s settings; the benchmark's Flask "hello" runs under the same
    settings without the outbox sender (it has no database)."""
    _Gunicorn(app, gunicorn_options(app, host, port, workers, outbox_sender)).run()


def gunicorn_options(
    app: Flask, host: str, port: int, workers: int, outbox_sender: bool = True
) -> dict[str, Any]:
    """Gunicorn's settings for ``app``: any Flask application, the provider or not."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Two threads a worker: one runs while the other waits on PostgreSQL or the socket. The
        # work is CPU-bound Python, so more threads only contend for the GIL: with 4, the SSO
        # round trip cost ~10 % more CPU and fewer were served (`make bench`, issue 14).
        "threads": THREADS,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": MaskedGunicornLogger,
    }
    if outbox_sender:
        # A sender per worker, started after the fork (threads don't survive one).
        options["post_worker_init"] = lambda worker: _start_worker_sender(app, worker)
        options["worker_exit"] = lambda _server, worker: _stop_worker_sender(worker)
    MaskedGunicornLogger.log_format = app.config.get("LOG_FORMAT", "text")
    return options


def _start_worker_sender(app: Flask, worker: Any) -> None:
    worker.idp_outbox_sender = outbox.start_sender(app)


def _stop_worker_sender(worker: Any) -> None:
    sender = getattr(worker, "idp_outbox_sender", None)
    if sender is not None:
        sender.stop()


class PathOnlyRequestHandler(WSGIRequestHandler):
    """The development server's access log, without query strings."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = logs.mask(getattr(self, "path", "").split("?", 1)[0])
        self.log("info", '"%s %s" %s %s', getattr(self, "command", "-"), path, code, size)


def serve_for_development(app: Flask, host: str, port: int) -> None:
    """Werkzeug's server without Flask's banner: every line it writes goes through logging.
    SIGTERM stops it as Ctrl-C does: the mail being handed over is marked sent first."""
    sender = outbox.start_sender(app)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_simple(host, port, app, threaded=True, request_handler=PathOnlyRequestHandler)
    finally:
        signal.signal(signal.SIGTERM, previous)
        sender.stop()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
