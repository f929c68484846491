"""queue(to, template, subject, **context): a mail in French (text and HTML), never lost.

The message is rendered at once (in the request's locale) and its bytes are queued in the outbox
(idp.outbox), in the caller's transaction; a sender hands it over later, retrying while the SMTP
server is unreachable. Over SMTP when IDP_SMTP_URL is set; otherwise written as an `.eml` file
under instance/outbox/ with its links logged, so that a laptop needs no mail server.
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import ssl
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, has_request_context, render_template, request, url_for
from flask_babel import LazyString
from sqlalchemy import select, update

from idp import i18n, outbox
from idp.extensions import db
from idp.models import AuditEvent, Flow
from idp.models.base import random_id, utcnow
from idp.models.flows import SENT as LIVE
from idp.models.outbox import PENDING, OutboxItem

log = logging.getLogger(__name__)
LINK = re.compile(r"https?://[^\s<>\"']+")
SMTP_TIMEOUT = 10
KIND = "mail"  # the outbox kind of a mail


class MailError(Exception):
    """The mail could not be handed to the SMTP server (``reason``: the cause's class)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LinkGone(outbox.Drop):
    """The mail's link was replaced by a newer one, or used, before the mail could leave."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MailRefused(MailError, outbox.GiveUp):
    """The SMTP server refused the mail for good (5xx): no use trying again."""


def provider_url(endpoint: str, **values) -> str:
    """A link for a mail, on the issuer's address: never the Host header of the request that
    happened to send it (an internal name behind the load balancer, or a forged one)."""
    return current_app.config["ISSUER"] + url_for(endpoint, **values)


def mask(address: str) -> str:
    """`anais.lefevre@example.org` → `a***@example.org`, for pages and logs."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def build(to: str, template: str, subject: str, **context) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].split("@")[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template(f"mail/{template}.txt", subject=subject, **context))
    html = render_template(f"mail/{template}.html", subject=subject, **context)
    message.add_alternative(html, subtype="html")
    return message


def render(to: str, template: str, subject: str | LazyString, **context) -> EmailMessage:
    """Build a mail in the language of ``context["account"]`` (or the first of ``accounts``)
    when it has one (``idp.i18n``); a lazy ``subject`` (``_l``) is translated in it too."""
    owner = context.get("account") or next(iter(context.get("accounts") or []), None)
    with i18n.account_language(owner):
        return build(to, template, str(subject), **context)


def queue(
    to: str,
    template: str,
    subject: str | LazyString,
    *,
    account_id: int | None = None,
    sent_event: str | None = None,
    sent_details: dict[str, Any] | None = None,
    flow_id: str | None = None,
    **context: Any,
) -> OutboxItem:
    """Render one mail now and queue it in the current transaction (the caller commits).

    Once the SMTP server has taken it, ``sent_event`` (if given) is written to the audit trail
    with the masked address and ``sent_details`` (nothing secret), from the address of the
    request that queued it, and the Flow ``flow_id`` (the mailed link's) gets its ``mailed_at``:
    what the help desk and the pages tell."""
    message = render(to, template, subject, **context)
    payload = {
        "template": template,
        "message": base64.b64encode(bytes(message)).decode("ascii"),
        "account_id": account_id,
        "email": mask(to),
        "sent_event": sent_event,
        "sent_details": sent_details or {},
        "flow_id": flow_id,
        "ip_address": request.remote_addr if has_request_context() else None,
    }
    return outbox.enqueue(KIND, payload, account_id=account_id)


def is_queued(flow_id: str) -> bool:
    """Whether the mail of the link ``flow_id`` waits in the outbox (not sent, not given up)."""
    found = db.session.scalar(
        select(OutboxItem.id)
        .where(
            OutboxItem.kind == KIND,
            OutboxItem.state == PENDING,
            OutboxItem.payload["flow_id"].as_string() == flow_id,
        )
        .limit(1)
    )
    return found is not None


@outbox.handler(KIND)
def deliver(payload: dict[str, Any]) -> None:
    """The outbox's handler: hand the stored message over (MailError to be retried), then
    record its receipt in the sender's transaction."""
    flow_id = payload.get("flow_id")
    if flow_id and db.session.scalar(select(Flow.state).where(Flow.id == flow_id)) != LIVE:
        raise LinkGone("replaced_or_used")  # the parent would get a dead link: don't send it
    message = message_from_bytes(base64.b64decode(payload["message"]), policy=policy.default)
    transmit(message, payload.get("template", "mail"))
    if payload.get("flow_id"):
        db.session.execute(
            update(Flow)
            .where(Flow.id == payload["flow_id"], Flow.mailed_at.is_(None))
            .values(mailed_at=utcnow())
        )
    if payload.get("sent_event"):
        details = {**payload.get("sent_details", {}), "email": payload["email"]}
        event = AuditEvent(
            event=payload["sent_event"],
            account_id=payload.get("account_id"),
            ip_address=payload.get("ip_address"),  # the request that asked for the mail
            details=details,
        )
        db.session.add(event)


def transmit(message: EmailMessage, template: str) -> None:
    """Hand a built message to the SMTP server (or the outbox folder), now."""
    url = current_app.config["SMTP_URL"]
    if url:
        _send_smtp(url, message)
    else:
        _write_outbox(message, template)


def send(to: str, template: str, subject: str | LazyString, **context) -> None:
    """Build and send one mail at once; MailError if the SMTP server can't take it.

    Only for what may be lost: flows use ``queue``."""
    transmit(render(to, template, subject, **context), template)


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    try:
        if secure:
            smtp = smtplib.SMTP_SSL(parts.hostname, port, timeout=SMTP_TIMEOUT)
        else:
            smtp = smtplib.SMTP(parts.hostname, port, timeout=SMTP_TIMEOUT)
        with smtp:
            if not secure and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        reason = error.__class__.__name__
        log.error("mail to %s not sent: %s", mask(message["To"]), reason)
        if _refused_for_good(error):
            raise MailRefused(reason) from None
        raise MailError(reason) from None


def _refused_for_good(error: Exception) -> bool:
    """A 5xx answer to the recipient or the message (not to the connection or the login)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _write_outbox(message: EmailMessage, template: str) -> None:
    outbox = Path(current_app.instance_path) / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{random_id()}-{template}.eml"
    path.write_bytes(bytes(message))
    text = message.get_body(preferencelist=("plain",)).get_content()
    links = " ".join(LINK.findall(text)) or "none"
    log.warning(
        "mail to %s written to %s; links: %s",
        mask(message["To"]),
        path,
        links,
        extra={"links_for_development": True},  # no SMTP: the developer follows them from here
    )
