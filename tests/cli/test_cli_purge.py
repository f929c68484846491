"""`idp purge` from cron: one JSON document of counts per kind, the expired rows gone."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta

from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, Interaction
from idp.models.base import utcnow
from tests.cli.harness import IDP, Cli


def test_purge_prints_counts_per_kind_and_deletes_what_expired(cli: Cli):
    with cli.app():
        db.session.add_all(
            [
                Interaction(query="a", browser_id="b", client_id="c", expires_at=at)
                for at in (utcnow() - timedelta(days=3), utcnow() + timedelta(minutes=5))
            ]
        )
        db.session.commit()

    counts = cli.json("purge")

    assert counts["pending_requests"] == 1
    assert {"codes", "tokens", "sessions", "mailed_links", "audit_events"} <= set(counts)
    assert all(isinstance(value, int) for value in counts.values())
    assert cli.count(Interaction) == 1
    text = cli("purge")
    assert text.returncode == 0 and "pending requests" in text.stdout


def test_a_running_worker_applies_the_retention_rules_without_cron(cli: Cli):
    with cli.app():
        db.session.add(
            Interaction(
                query="a", browser_id="b", client_id="c", expires_at=utcnow() - timedelta(days=3)
            )
        )
        db.session.commit()
    worker = subprocess.Popen(
        [str(IDP), "worker", "--interval", "0.2"],
        env=cli.env,
        cwd=cli.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while cli.count(Interaction) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cli.count(Interaction) == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    with cli.app():
        assert db.session.scalar(select(AuditEvent.id).filter_by(event="purged")) is not None
