"""Operators see the mail queue on /metrics: mails queued, sent and failed (idp_mails_total)."""

from __future__ import annotations

import re

from flask import Flask

from idp import outbox
from idp.extensions import db
from tests.test_outbox import queue_mail, quiet  # noqa: F401 (the fixture)


def mails_counted(app: Flask) -> dict[str, float]:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    return {
        state: float(value)
        for state, value in re.findall(r'^idp_mails_total\{state="(\w+)"\} (\S+)$', text, re.M)
    }


def test_metrics_count_the_mails_queued_and_sent(quiet: Flask, mailbox):  # noqa: F811
    before = mails_counted(quiet)
    queue_mail("anais@example.org")
    db.session.commit()
    assert outbox.deliver_due() == 1

    after = mails_counted(quiet)
    assert after["queued"] - before.get("queued", 0) == 1
    assert after["sent"] - before.get("sent", 0) == 1


def test_metrics_count_a_mail_given_up(quiet: Flask, mailbox):  # noqa: F811
    quiet.config["OUTBOX_MAX_ATTEMPTS"] = 1
    before = mails_counted(quiet)
    mailbox.stop()  # SMTP down: the one attempt fails, and it was the last
    try:
        queue_mail("anais@example.org")
        db.session.commit()
        assert outbox.deliver_due() == 0
    finally:
        mailbox.start()
    assert mails_counted(quiet)["failed"] - before.get("failed", 0) == 1
