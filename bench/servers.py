"""The two servers the benchmark starts, under the gunicorn settings of `idp serve --workers N`.

- ``provider``: the provider as `idp serve` builds it, with Flask-Limiter's per-address limits
  off (every virtual user comes from 127.0.0.1; the limits are not what is measured).
- ``hello``: a Flask application answering "hello": the ceiling of Flask under these settings.
- ``stub``: the least a Python provider could do under these settings (bench/stub.py), on the
  provider's database (IDP_ISSUER, IDP_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import os
import sys

from flask import Flask

from idp import create_app
from idp.cli.servers import _Gunicorn as Gunicorn
from idp.cli.servers import gunicorn_options, serve_with_gunicorn


def hello_app() -> Flask:
    app = Flask("hello")

    @app.get("/")
    def hello() -> str:
        return "hello"

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["provider", "hello", "stub"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    provider = options.which == "provider"
    if options.which == "stub":
        import stub

        wsgi = stub.make_app(os.environ["IDP_ISSUER"], os.environ["IDP_DATABASE_URL"])
        settings = gunicorn_options(hello_app(), "127.0.0.1", options.port, options.workers, False)
        Gunicorn(wsgi, settings).run()  # the same settings, around a bare WSGI application
        return 0
    app = create_app({"RATELIMIT_ENABLED": False}) if provider else hello_app()
    serve_with_gunicorn(app, "127.0.0.1", options.port, options.workers, outbox_sender=provider)
    return 0


if __name__ == "__main__":
    sys.exit(main())
