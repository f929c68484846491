"""No log line of `idp serve` holds a secret (contract §4), with and without `--workers`.

A day of flows over real HTTP against the real console script: a teleservice's parent signs in
with the letter, activates (mailed link), the teleservice exchanges the code, refreshes and reads
userinfo; the parent forgets the password (mailed link), resets it, changes the address (mailed
link); someone tries a made-up link. Every line the server wrote is then scanned for every
secret the day handled: passwords, link tokens, codes, tokens, the client secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.cli.harness import IDP, Cli
from tests.factories import Factory
from tests.mailbox import Mailbox, links_in
from tests.oidc_client import csrf_token

NEW_PASSWORD = "Trousse-Verte-88"
RESET_PASSWORD = "Crayon-Jaune-Lune-77"
CALLBACK = "https://lsu.example.org/callback"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`idp serve` in a subprocess, its stderr and stdout kept in a file."""

    def __init__(self, cli: Cli, workers: int | None, smtp_url: str, log_format: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = cli.root / "server.log"
        args = [str(IDP), "serve", "--port", str(self.port)]
        if workers:
            args += ["--workers", str(workers)]
        env = {
            **cli.env,
            "IDP_ISSUER": self.url,
            "IDP_SMTP_URL": smtp_url,
            "IDP_LOG_FORMAT": log_format,
        }
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            args, env=env, cwd=cli.root, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/.well-known/openid-configuration", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("the server did not start: " + self.log_path.read_text())

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log_file.close()
        return self.log_path.read_text()


def _form(session: requests.Session, url: str, **fields: str) -> requests.Response:
    page = session.get(url, allow_redirects=True)
    fields["csrf_token"] = csrf_token(page.text)
    return session.post(page.url, data=fields, allow_redirects=False)


def _open_link(session: requests.Session, link: str) -> requests.Response:
    """Open a mailed link; when its page asks for one button, press it."""
    page = session.get(link, allow_redirects=False)
    if page.status_code == 200 and 'name="csrf_token"' in page.text and "<form" in page.text:
        return session.post(link, data={"csrf_token": csrf_token(page.text)}, allow_redirects=False)
    return page


def _next_mail(mailbox: Mailbox, address: str, seen: int) -> str:
    """The one link of the next mail to the address (mails leave from a background thread)."""
    deadline = time.monotonic() + 10
    while len(mailbox.to(address, timeout=0)) <= seen and time.monotonic() < deadline:
        time.sleep(0.05)
    (link,) = links_in(mailbox.to(address)[seen])
    return link


def _follow(session: requests.Session, response: requests.Response) -> requests.Response:
    while response.status_code in (302, 303) and not response.headers["Location"].startswith(
        CALLBACK
    ):
        response = session.get(
            requests.compat.urljoin(response.url, response.headers["Location"]),
            allow_redirects=False,
        )
    return response


def a_day_of_flows(server: Server, mailbox: Mailbox, client_id: str, client_secret: str, account):
    """Run the day; return every secret it handled."""
    identifier, letter_password = account
    handled = [client_secret, letter_password, NEW_PASSWORD, RESET_PASSWORD]
    parent = requests.Session()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(12)
    start = parent.get(
        server.url + "/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid profile email children",
            "state": state,
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    signed_in = _form(
        parent,
        requests.compat.urljoin(server.url, start.headers["Location"]),
        identifier=identifier,
        password=letter_password,
    )
    _follow(parent, signed_in)
    _form(
        parent,
        server.url + "/activation",
        email="anais@example.org",
        new_password=NEW_PASSWORD,
        new_password_confirm=NEW_PASSWORD,
        child_birthdate="14/02/2016",
    )
    activation_link = _next_mail(mailbox, "anais@example.org", 0)
    back = _follow(parent, _open_link(parent, activation_link))
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    handled += [activation_link.rsplit("/", 1)[-1], code, verifier, state]

    teleservice = requests.Session()
    teleservice.auth = (client_id, client_secret)
    tokens = teleservice.post(
        server.url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    ).json()
    refreshed = teleservice.post(
        server.url + "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    ).json()
    assert requests.get(
        server.url + "/userinfo",
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
        timeout=10,
    ).ok
    handled += [tokens[k] for k in ("access_token", "refresh_token", "id_token")]
    handled += [refreshed[k] for k in ("access_token", "refresh_token")]

    forgetful = requests.Session()
    _form(forgetful, server.url + "/recovery/password", identifier=identifier)
    reset_link = _next_mail(mailbox, "anais@example.org", 1)
    reset = _form(
        forgetful, reset_link, new_password=RESET_PASSWORD, new_password_confirm=RESET_PASSWORD
    )
    assert reset.status_code == 200, reset.text
    handled.append(reset_link.rsplit("/", 1)[-1])

    _form(parent, server.url + "/login", identifier=identifier, password=RESET_PASSWORD)
    _form(parent, server.url + "/compte/adresse", email="anais.nouvelle@example.org")
    email_link = _next_mail(mailbox, "anais.nouvelle@example.org", 0)
    assert _open_link(requests.Session(), email_link).status_code == 200
    handled.append(email_link.rsplit("/", 1)[-1])

    made_up = secrets.token_urlsafe(32)
    for path in ("/recovery/password/", "/activation/confirm/", "/compte/adresse/confirmer/"):
        assert requests.get(server.url + path + made_up, timeout=10).status_code in (200, 400)
    handled.append(made_up)
    return handled


@pytest.mark.parametrize(("workers", "log_format"), [(None, "text"), (1, "json"), (None, "json")])
def test_no_server_log_line_holds_a_secret(cli: Cli, mailbox: Mailbox, workers, log_format):
    with cli.app() as app:
        client, client_secret = Factory(app).client(redirect_uris=[CALLBACK])
        account, password = Factory(app).account(status="provisional", email=None)
        identifier, client_id = account.identifier, client.client_id
    server = Server(cli, workers, mailbox.url, log_format)
    try:
        handled = a_day_of_flows(server, mailbox, client_id, client_secret, (identifier, password))
    finally:
        log = server.stop()

    lines = log.splitlines()
    access = [line for line in lines if "/recovery/password/" in line]
    assert len(access) >= 2, log  # the reset link's page was logged, masked
    assert all("/recovery/password/***" in line for line in access)
    if log_format == "json":
        assert all(json.loads(line)["message"] for line in lines if line.strip())
    if workers:  # gunicorn's access line: address, method and path, status, bytes, seconds
        messages = [json.loads(line)["message"] for line in lines if line.strip()]
        userinfo = [m for m in messages if '"GET /userinfo"' in m]
        assert userinfo and all(
            re.fullmatch(r'127\.0\.0\.1 "GET /userinfo" 200 \d+ \d+\.\d{6}s', m) for m in userinfo
        ), userinfo
    for secret in handled:
        assert secret not in log, f"a secret in the log: {secret[:4]}…"
    Path(server.log_path).unlink()


def test_gunicorn_settings_fit_any_flask_application():
    """`make bench` serves a plain Flask "hello" under `idp serve`'s gunicorn settings: they
    must not need the provider's configuration (a KeyError on LOG_FORMAT once stopped the
    benchmark before its baseline)."""
    from flask import Flask

    from idp.cli.servers import gunicorn_options

    options = gunicorn_options(Flask("hello"), "127.0.0.1", 8000, 2, outbox_sender=False)
    assert options["workers"] == 2 and options["bind"] == "127.0.0.1:8000"
    assert "post_worker_init" not in options  # no outbox sender without a database
