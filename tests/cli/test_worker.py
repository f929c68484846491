"""`idp worker`: another process delivers what a provider queued (a restart loses nothing),
several at once send each mail once, and SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from idp import mail
from idp.extensions import db
from idp.models.outbox import PENDING, SENT, OutboxItem
from tests.cli.harness import IDP, Cli

TEST_REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def queue_mails(cli: Cli, addresses: list[str]) -> None:
    """What a provider process does, then it stops (its app and pool are gone)."""
    with cli.app() as app, app.test_request_context():
        for address in addresses:
            account = SimpleNamespace(name="Anaïs Lefèvre")
            mail.queue(address, "account_password_changed", "Mot de passe", account=account)
        db.session.commit()


def states(cli: Cli) -> list[tuple[str, int]]:
    with cli.app():
        return [(row.state, row.attempts) for row in db.session.scalars(select(OutboxItem))]


def test_a_mail_queued_by_a_stopped_provider_is_sent_by_a_new_process(cli: Cli, mailbox):
    queue_mails(cli, ["anais@example.org"])

    done = cli("worker", "--once", "--json", IDP_SMTP_URL=mailbox.url)

    assert Cli.loads(done) == {"sent": 1, "pending": 0, "failed": 0}
    assert len(mailbox.to("anais@example.org")) == 1
    assert states(cli) == [(SENT, 1)]


def test_smtp_down_the_worker_keeps_the_mail_for_later(cli: Cli, mailbox):
    queue_mails(cli, ["anais@example.org"])
    mailbox.stop()

    done = cli("worker", "--once", IDP_SMTP_URL=mailbox.url)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 delivered; 1 pending, 0 failed"
    assert "anais@" not in done.stderr and "Traceback" not in done.stderr
    assert states(cli) == [(PENDING, 1)]


def test_two_workers_at_once_send_each_mail_once(cli: Cli, mailbox):
    addresses = [f"parent{n}@example.org" for n in range(30)]
    queue_mails(cli, addresses)

    command = [str(IDP), "worker", "--once", "--json"]
    env = {**cli.env, "IDP_SMTP_URL": mailbox.url}
    workers = [
        subprocess.Popen(command, env=env, cwd=cli.root, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    sent = [json.loads(worker.communicate(timeout=60)[0])["sent"] for worker in workers]

    assert sum(sent) == len(addresses)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(addresses)
    assert set(states(cli)) == {(SENT, 1)}


def test_the_worker_delivers_until_sigterm_then_stops_cleanly(cli: Cli, mailbox):
    worker = subprocess.Popen(
        [str(IDP), "worker", "--interval", "0.2"],
        env={**cli.env, "IDP_SMTP_URL": mailbox.url},
        cwd=cli.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "delivering" in worker.stderr.readline()
        queue_mails(cli, ["anais@example.org"])
        assert len(mailbox.to("anais@example.org", timeout=10)) == 1
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()

    assert worker.returncode == 0, stderr
    assert time.monotonic() - started < 5
    assert stdout.strip() == "1 delivered; 0 pending, 0 failed"
    assert "Traceback" not in stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["dev-server", "gunicorn"])
def test_idp_serve_delivers_on_its_own(cli: Cli, mailbox, workers: list[str]):
    """One `serve` is a complete provider: what an earlier run queued, and what is queued
    while it serves, leaves without any `idp worker`."""
    queue_mails(cli, ["before@example.org"])
    # Several workers need shared counters: idp serve refuses them without Redis.
    redis = {"IDP_REDIS_URL": TEST_REDIS_URL} if workers else {}
    server = subprocess.Popen(
        [str(IDP), "serve", "--port", str(free_port()), *workers],
        env={**cli.env, "IDP_SMTP_URL": mailbox.url, **redis},
        cwd=cli.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert len(mailbox.to("before@example.org", timeout=20)) == 1
        queue_mails(cli, ["while@example.org"])  # another process: found by polling
        assert len(mailbox.to("while@example.org", timeout=20)) == 1
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)

    assert len(mailbox.messages) == 2
    assert set(states(cli)) == {(SENT, 1)}
