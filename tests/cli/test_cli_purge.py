"""`idp purge` from cron: one JSON document of counts per kind, the expired rows gone."""

from __future__ import annotations

from datetime import timedelta

from idp.extensions import db
from idp.models import Interaction
from idp.models.base import utcnow
from tests.cli.harness import Cli


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
