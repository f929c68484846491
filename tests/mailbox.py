"""A real SMTP server in the test process (aiosmtpd) and the mails it received."""

from __future__ import annotations

import re
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://[^\s<>\"']+")


class Mailbox:
    """Collects every mail delivered to the SMTP server, for the tests to read."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller: Controller | None = None
        self.running = False

    def start(self) -> None:
        """Accept connections (again, after ``stop``: an outage that ends), on the same port."""
        if not self.running:
            self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self.controller.start()
            self.running = True

    def stop(self) -> None:
        """Stop accepting connections: an SMTP outage (``start`` ends it)."""
        if self.running:
            self.controller.stop()
            self.running = False

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str, timeout: float = 5.0) -> list[EmailMessage]:
        """The mails received for an address (waits briefly for one to arrive)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages if m["To"] == address]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no mail to {address}"
        return found[-1]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def links_in(message: EmailMessage) -> list[str]:
    """Every distinct link of the mail, text and HTML parts together."""
    found = LINK.findall(text_of(message)) + LINK.findall(html_of(message))
    return list(dict.fromkeys(found))


def wait_for_outbox(timeout: float = 15.0) -> None:
    """Wait until the app's outbox sender has delivered every queued mail (after the self-help
    jobs, which queue theirs): what a test reads in the mailbox is then all there will be."""
    from sqlalchemy import func, select

    from idp import jobs
    from idp.extensions import db
    from idp.models.outbox import PENDING, OutboxItem

    assert jobs.wait_for_jobs()
    query = select(func.count()).select_from(OutboxItem).where(OutboxItem.state == PENDING)
    deadline = time.monotonic() + timeout
    while True:
        with db.engine.connect() as connection:
            if connection.scalar(query) == 0:
                return
        assert time.monotonic() < deadline, "the outbox still holds undelivered mail"
        time.sleep(0.05)
