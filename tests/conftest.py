"""Fixtures: the app on SQLite (or PostgreSQL with IDP_TEST_DATABASE_URL), a live server,
accounts and clients in one line, and a small OIDC client that walks the code flow."""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from clients.lsu import create_app as create_lsu
from idp import ROOT, bootstrap, create_app, outbox
from idp.extensions import db
from tests.factories import Factory
from tests.mailbox import Mailbox
from tests.oidc_client import OIDCClient
from tests.parent import Parent

TEST_DATABASE_URL = os.environ.get("IDP_TEST_DATABASE_URL")


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """The English catalogue, compiled as `make install` does, for a bare `pytest` run too."""
    for po_path in Path(ROOT, "idp", "translations").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with po_path.open("rb") as po_file, mo_path.open("wb") as mo_file:
                write_mo(mo_file, read_po(po_file))


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        engine = create_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'idp.sqlite3'}"


@pytest.fixture(scope="session")
def base_config(database_url: str, keys_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Settings for every test app; the schema and keys are made once per test session."""
    config = {
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "SECRET_KEY": "test secret key, not for production",
        "BCRYPT_ROUNDS": 4,
        "TESTING": True,
    }
    app = create_app(config)
    with app.app_context():
        bootstrap.upgrade_schema()
        bootstrap.ensure_signing_keys(app)
        db.engine.dispose()
    return config


def _empty_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port, for the test's app (IDP_SMTP_URL points at it)."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def make_app(base_config: dict) -> Iterator:
    """Build apps with extra settings; their tables are emptied afterwards."""
    apps: list[Flask] = []

    def build(**overrides) -> Flask:
        app = create_app({**base_config, **overrides})
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            if app.config["DATABASE_URL"] == base_config["DATABASE_URL"]:
                _empty_tables()
            db.session.remove()
            db.engine.dispose()


class Browser(FlaskClient):
    """Flask's test client, with each request in its own contexts, as in production.

    The test's own app context stays pushed (for factories and queries) but no request shares
    it: its `g` and SQLAlchemy session are the request's alone. The test's transaction is
    committed first, so the request sees the test's writes and the test then reads the request's.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


# Retries come quickly in tests (the first after 0.5 s instead of 5 s).
FAST_OUTBOX = {"OUTBOX_BACKOFF": 0.5}


@pytest.fixture
def app(make_app, mailbox: Mailbox) -> Iterator[Flask]:
    """The provider, its mail going to the test's SMTP server through the outbox: an in-process
    sender delivers what each request queued, as `idp serve` does."""
    app = make_app(SMTP_URL=mailbox.url, **FAST_OUTBOX)
    app.test_client_class = Browser
    sender = outbox.start_sender(app, interval=0.2)
    app.extensions["test_outbox_sender"] = sender  # a test that needs its own sender stops it
    with app.app_context():
        yield app
    sender.stop()


@pytest.fixture
def browser(app: Flask):
    """Flask's test client: a browser with its cookies."""
    return app.test_client()


@pytest.fixture
def parent(browser) -> Parent:
    """A parent at the test's browser (the one `rp` drives too)."""
    return Parent(browser)


@pytest.fixture
def make_parent(app: Flask):
    """Another parent, or the same one on another device: a browser with its own cookies."""

    def make(user_agent: str | None = None) -> Parent:
        return Parent(app.test_client(), user_agent)

    return make


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


@pytest.fixture
def rp(app: Flask, factory: Factory, browser) -> OIDCClient:
    """A registered confidential teleservice, driving the flow through the test browser."""
    client, secret = factory.client()
    return OIDCClient(browser, client.client_id, secret, client.redirect_uris[0])


@pytest.fixture
def new_rp(factory: Factory, browser):
    """Register another teleservice (factory.client options), driven in the same browser."""

    def make(**options) -> OIDCClient:
        client, secret = factory.client(**options)
        return OIDCClient(browser, client.client_id, secret, client.redirect_uris[0])

    return make


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        app.config["ISSUER"] = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The provider over real HTTP on a free port; its issuer is that address."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def lsu_server(app, live_server):
    """The demo LSU teleservice on its own port, registered with the live provider."""
    server = make_server("127.0.0.1", 0, None, threaded=True)
    lsu_url = f"http://127.0.0.1:{server.port}"
    client, secret = Factory(app).client(
        name="Livret scolaire unique (démonstration)",
        redirect_uris=[f"{lsu_url}/callback"],
        post_logout_redirect_uris=[f"{lsu_url}/"],
    )
    server.app = create_lsu(
        {
            "LSU_ISSUER": live_server.url,
            "LSU_CLIENT_ID": client.client_id,
            "LSU_CLIENT_SECRET": secret,
            "LSU_PUBLIC_URL": lsu_url,
        }
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield lsu_url
    server.shutdown()
    thread.join()
