"""`idp serve`: the development server, or gunicorn with `--workers N`.

Both log the path of each request without its query string, which may carry codes, and with
mailed-link tokens masked (idp.logs); gunicorn's error log is masked too.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger
from werkzeug.serving import WSGIRequestHandler, run_simple

from idp import logs


class MaskedGunicornLogger(GunicornLogger):
    """Gunicorn's access and error logs, with secrets masked and in IDP_LOG_FORMAT."""

    log_format = "text"

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


def serve_with_gunicorn(app: Flask, host: str, port: int, workers: int) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": 4,
        "accesslog": "-",
        # Query strings may carry codes: log the path only.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        "logger_class": MaskedGunicornLogger,
    }
    MaskedGunicornLogger.log_format = app.config["LOG_FORMAT"]
    _Gunicorn(app, options).run()


class PathOnlyRequestHandler(WSGIRequestHandler):
    """The development server's access log, without query strings."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = logs.mask(getattr(self, "path", "").split("?", 1)[0])
        self.log("info", '"%s %s" %s %s', getattr(self, "command", "-"), path, code, size)


def serve_for_development(app: Flask, host: str, port: int) -> None:
    """Werkzeug's server without Flask's banner: every line it writes goes through logging."""
    run_simple(host, port, app, threaded=True, request_handler=PathOnlyRequestHandler)
