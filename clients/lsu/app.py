"""Application factory of the LSU demo teleservice."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from . import i18n
from .config import Settings, load_settings
from .views import CLIENT_KEY, SETTINGS_KEY, ProviderUnavailable, bp

SCOPE = "openid profile email children"
HTTP_TIMEOUT_SECONDS = 10


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the app; the provider is not contacted until the first sign-in.

    ``config`` overrides the environment (same ``LSU_*`` keys); other keys go to
    ``app.config`` as-is (e.g. ``TESTING``).
    """
    overrides = dict(config or {})
    settings = load_settings(overrides)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Provider and client share the host 127.0.0.1 and cookies ignore ports.
        SESSION_COOKIE_NAME="lsu_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    app.config.update({k: v for k, v in overrides.items() if not k.startswith("LSU_")})
    app.extensions[SETTINGS_KEY] = settings
    app.extensions[CLIENT_KEY] = _register_client(app, settings)
    app.register_blueprint(bp)
    app.context_processor(lambda: {"t": i18n.translate, "lang": i18n.current_language()})
    _register_error_pages(app)
    return app


def _register_client(app: Flask, settings: Settings) -> Any:
    """Register the OIDC client; discovery is fetched lazily by Authlib."""
    oauth = OAuth(app)
    return oauth.register(
        name="provider",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
    )


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(ProviderUnavailable)
    def provider_unavailable(exc: ProviderUnavailable) -> tuple[str, int]:
        app.logger.warning("Identity provider unavailable: %s", exc)
        return render_template("unavailable.html"), 503

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        return render_template("http_error.html", code=code), code

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> tuple[str, int]:
        app.logger.exception("Unexpected error")
        return render_template("http_error.html", code=500), 500
