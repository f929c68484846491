"""Logging without secrets: mailed-link tokens and OAuth secrets are masked in every log line.

A mailed link carries its token in the path (`/recovery/password/<token>`): whoever reads an
access log holding it can take over the account. Every handler the provider logs through
(the development server's, gunicorn's access and error logs, Flask's exception log, the CLI's)
passes records through `MaskSecrets`, and `IDP_LOG_FORMAT=json` writes one JSON object a line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

MASK = "***"
# The paths whose last segment is a mailed link's token (keep in step with the link routes).
LINK_PATH = re.compile(
    r"(?P<prefix>/(?:recovery/password|activation/confirm|compte/adresse/confirmer"
    r"|ecole/inscription|ecole/enrolment)/)(?P<token>[^/?#\s\"']+)"
)
# Anything else that looks like a random token or a JWT part (32+ URL-safe characters).
LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
# Query or form values that are secrets whatever their length.
SECRET_PARAM = re.compile(
    r"(?P<name>(?:^|[?&\s])(?:code|token|access_token|refresh_token|id_token|id_token_hint"
    r"|client_secret|code_verifier|password|new_password|new_password_confirm"
    r"|current_password|logout_token|csrf_token|state)=)(?P<value>[^&\s\"']*)"
)


def mask(text: str) -> str:
    """The text with link tokens, long tokens and secret parameters replaced by ***."""
    text = LINK_PATH.sub(lambda m: m["prefix"] + MASK, text)
    text = LONG_TOKEN.sub(MASK, text)
    return SECRET_PARAM.sub(lambda m: m["name"] + MASK, text)


class MaskSecrets(logging.Filter):
    """Rewrite each record's message (and its traceback) with the secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "links_for_development", False):
            return True  # the outbox-folder mode's own line: its whole point is the link
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exception"] = record.exc_text
        return json.dumps(document, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def protect(handler: logging.Handler, log_format: str | None = None) -> logging.Handler:
    """Give a handler the masking filter (once) and, when asked, the chosen format."""
    if not any(isinstance(f, MaskSecrets) for f in handler.filters):
        handler.addFilter(MaskSecrets())
    if log_format is not None:
        handler.setFormatter(formatter(log_format))
    return handler


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """The process's logging: one stderr handler on the root logger, masked, in the format.

    Like `logging.basicConfig`, it leaves a root logger that already has handlers as it is,
    but masks what they write.
    """
    root = logging.getLogger()
    if root.handlers:
        for handler in root.handlers:
            protect(handler)
        return
    root.addHandler(protect(logging.StreamHandler(sys.stderr), log_format))
    root.setLevel(level)


def init_app(app) -> None:
    """Mask records logged straight to the loggers that name request paths, whoever handles them
    (Flask's exception log names the path; so do werkzeug's lines)."""
    for name in (app.logger.name, "werkzeug", "gunicorn.error", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskSecrets) for f in logger.filters):
            logger.addFilter(MaskSecrets())
    for handler in logging.getLogger().handlers:
        protect(handler)
