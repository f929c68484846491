"""send(to, template, subject, **context): a mail in French (text and HTML), really sent.

Over SMTP when IDP_SMTP_URL is set; otherwise written as an `.eml` file under instance/outbox/
with its links logged, so that a laptop needs no mail server.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template, url_for
from flask_babel import LazyString

from idp import i18n
from idp.models.base import random_id

log = logging.getLogger(__name__)
LINK = re.compile(r"https?://[^\s<>\"']+")
SMTP_TIMEOUT = 10


class MailError(Exception):
    """The mail could not be handed to the SMTP server."""


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


def send(to: str, template: str, subject: str | LazyString, **context) -> None:
    """Build and send one mail; MailError if the SMTP server can't be reached or refuses it.

    Written in the language of ``context["account"]`` (or the first of ``accounts``) when it
    has one (``idp.i18n``); a lazy
    ``subject`` (``_l``) is translated in it too.
    """
    owner = context.get("account") or next(iter(context.get("accounts") or []), None)
    with i18n.account_language(owner):
        message = build(to, template, str(subject), **context)
    url = current_app.config["SMTP_URL"]
    if url:
        _send_smtp(url, message)
    else:
        _write_outbox(message, template)


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
        log.error("mail to %s not sent: %s", mask(message["To"]), error.__class__.__name__)
        raise MailError(str(error)) from None


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
