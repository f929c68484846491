"""The Flask application of a demo teleservice: its pages plus the shared sign-in blueprint."""

from __future__ import annotations

import logging
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from . import auth, i18n
from .config import ConfigError, Settings
from .logout import EndedSessions

HTTP_TIMEOUT_SECONDS = 10


def build_app(
    import_name: str,
    settings: Settings,
    pages: Blueprint,
    cookie_name: str,
    scope: str,
    extra_config: dict[str, Any] | None = None,
) -> Flask:
    """The app: ``pages`` (a blueprint named "pages" with a "home" view) and sign-in.
    The provider is not contacted until the first sign-in."""
    app = Flask(import_name)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The provider and the teleservices share the host 127.0.0.1 and cookies ignore ports.
        SESSION_COOKIE_NAME=cookie_name,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    app.config.update(extra_config or {})
    app.extensions[auth.SETTINGS_KEY] = settings
    app.extensions[auth.CLIENT_KEY] = _register_client(app, settings, scope)
    app.extensions[auth.ENDED_KEY] = EndedSessions()
    app.register_blueprint(pages)
    app.register_blueprint(auth.bp)
    app.jinja_env.globals["current_user"] = auth.current_user
    app.context_processor(lambda: {"t": i18n.translate, "lang": i18n.current_language()})
    _register_error_pages(app)
    return app


def _register_client(app: Flask, settings: Settings, scope: str) -> Any:
    """Register the OIDC client; discovery is fetched lazily by Authlib."""
    oauth = OAuth(app)
    return oauth.register(
        name="provider",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs={
            "scope": scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
    )


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(auth.ProviderUnavailable)
    def provider_unavailable(exc: auth.ProviderUnavailable) -> tuple[str, int]:
        app.logger.warning("Identity provider unavailable: %s", exc)
        return render_template("rp/unavailable.html"), 503

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        return render_template("rp/http_error.html", code=code), code

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> tuple[str, int]:
        app.logger.exception("Unexpected error")
        return render_template("rp/http_error.html", code=500), 500


def serve(name: str, prefix: str, default_port: str, create: Callable[[], Flask]) -> None:
    """``python -m clients.<name>``: serve on ``<PREFIX>_HOST``/``<PREFIX>_PORT``."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        app = create()
    except ConfigError as exc:
        sys.exit(f"{name}: configuration error: {exc}")
    host = os.environ.get(f"{prefix}_HOST", "127.0.0.1")
    port_text = os.environ.get(f"{prefix}_PORT", default_port)
    if not port_text.isdigit():
        sys.exit(f"{name}: configuration error: {prefix}_PORT must be a port number")
    wait_for_provider(name, app.extensions[auth.SETTINGS_KEY].discovery_url)
    # No start-up banner: `make run` prints the three addresses once, itself.
    make_server(host, int(port_text), app, threaded=True).serve_forever()


def wait_for_provider(name: str, url: str, seconds: float = 30) -> None:
    """Answer only once the provider does (``make run`` starts them all at once)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our config
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            logging.warning("%s: the provider at %s does not answer; starting anyway", name, url)
            return
        time.sleep(0.3)
