"""The identity provider for parents of school children: ``create_app()`` builds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from idp import config as settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, error handlers.

    ``config`` overrides the environment, key by key (names without the ``IDP_`` prefix).
    """
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    values = settings.from_environment()
    values.update(config or {})
    settings.resolve_defaults(values, app.instance_path)
    settings.check_config(values)
    app.config.update(values)
    _configure_flask(app)
    hops = app.config["TRUSTED_PROXIES"]
    if hops:  # the client's address, scheme and host as the outermost trusted proxy saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    from idp import errors, i18n, logs, messages, metrics, sessions, web_security
    from idp.accounts import events
    from idp.extensions import csrf, db, limiter, migrate
    from idp.oidc.published import PublishedDocuments
    from idp.oidc.server import init_oidc

    logs.init_app(app)
    metrics.init_app(app)
    errors.init_app(app)  # first: its input check runs before any other request hook
    web_security.init_app(app)  # then the cross-site check, before CSRFProtect's
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "idp" / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    messages.init_app(app)
    events.init_app(app)
    sessions.init_app(app)
    init_oidc(app)
    _register_blueprints(app)
    app.wsgi_app = PublishedDocuments(app, app.wsgi_app)  # type: ignore[method-assign]
    _register_outbox_handlers()
    return app


def _configure_flask(app: Flask) -> None:
    """Derive the Flask, SQLAlchemy, Limiter and cookie settings from the provider's own."""
    secure = app.config["ISSUER"].startswith("https://")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=app.config["DATABASE_URL"],
        # No ping at each checkout (a round trip per request): a connection found dead raises
        # OperationalError (a 503, see idp.errors) and SQLAlchemy then invalidates the whole
        # pool, so that one request per process sees a database restart, not every one.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False},
        RATELIMIT_STORAGE_URI=app.config["REDIS_URL"] or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        SESSION_COOKIE_NAME="idp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=app.config["SESSION_MAX_TTL"],
        # The cookie is set when its content changes, not on every answer: it expires with the
        # session's absolute lifetime, counted from the sign-in, and the idle timeout is the
        # server's (idp.sessions). Re-signing it on each request cost every SSO redirect.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )


def _register_outbox_handlers() -> None:
    """Import every module with an ``@outbox.handler``: any process (`serve`, `worker`) can
    then deliver every kind of queued row."""
    import idp.mail  # noqa: F401
    import idp.oidc.backchannel  # noqa: F401 (also queues logout tokens when sessions end)


def _register_blueprints(app: Flask) -> None:
    from idp import operations
    from idp.console import views as console_views
    from idp.flows import account, activation, gate, login, recovery
    from idp.oidc import views as oidc_views
    from idp.oidc.clients import views as registration
    from idp.pages import views as pages_views
    from idp.portal import views as portal_views

    app.register_blueprint(operations.bp)

    app.register_blueprint(oidc_views.bp)
    app.register_blueprint(registration.bp)
    app.register_blueprint(login.bp)
    app.register_blueprint(activation.bp)
    app.register_blueprint(recovery.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(portal_views.bp)
    app.register_blueprint(console_views.bp)
    app.register_blueprint(pages_views.bp)
    gate.init_app(app)
