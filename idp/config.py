"""Every setting of the provider, its default, and how the IDP_* environment overrides it.

The public names are the environment variables of docs/contract.md §1; inside the application
the same settings live in ``app.config`` without the ``IDP_`` prefix (``ISSUER``,
``DATABASE_URL``…).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError


class ConfigError(Exception):
    """A setting is unknown or malformed; the message is one line naming the variable."""


def _url(value: str) -> str:
    """An issuer: http(s), a host, no query nor fragment (OpenID Connect Discovery §3)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an http(s) URL is expected")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError("no query or fragment allowed in the issuer")
    _ = parts.port  # raises ValueError on an impossible port
    return value.rstrip("/")


def _smtp_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("smtp://host:port or smtps://user:pass@host:port is expected")
    _ = parts.port  # raises ValueError on a malformed port
    return value


def _redis_url(value: str) -> str:
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("redis://host:port/db is expected")
    return value


def _database_url(value: str) -> str:
    """A SQLAlchemy URL whose driver is installed (`postgresql+psycopg://…`, `sqlite:///…`)."""
    try:
        make_url(value).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise ValueError(f"not a usable SQLAlchemy URL ({error.__class__.__name__})") from None
    return value


def _email(value: str) -> str:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("an email address is expected") from None
    return value


def _whole_number(value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ValueError(f"a whole number from {low} to {high} is expected, not {value!r}")
    return number


def _positive_int(value: str) -> int:
    return _whole_number(value, 1, 10**9)


def _bcrypt_rounds(value: str) -> int:
    return _whole_number(value, 4, 31)


def _proxy_hops(value: str) -> int:
    return _whole_number(value, 0, 10)


def _log_format(value: str) -> str:
    if value not in ("text", "json"):
        raise ValueError(f"text or json is expected, not {value!r}")
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("a non-empty value is expected")
    return value


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ISSUER", "http://127.0.0.1:5000", _url, "Issuer URL, exactly as in `iss`."),
    Setting("DATABASE_URL", None, _database_url, "SQLAlchemy URL; SQLite under instance/."),
    Setting("REDIS_URL", None, _redis_url, "Redis for counters shared between instances."),
    Setting("SMTP_URL", None, _smtp_url, "SMTP relay; unset writes mail to instance/outbox/."),
    Setting("MAIL_FROM", None, _email, "Sender address; ne-pas-repondre@<issuer host>."),
    Setting("KEYS_DIR", "keys", _text, "Folder of private signing keys (PEM)."),
    Setting("SECRET_KEY", None, _text, "Master secret: sessions, CSRF, keyed hashes, pairwise."),
    Setting("BCRYPT_ROUNDS", 12, _bcrypt_rounds, "bcrypt cost for chosen passwords."),
    Setting(
        "PROVISIONAL_BCRYPT_ROUNDS",
        6,
        _bcrypt_rounds,
        "bcrypt cost for the letters' provisional passwords: random (67 bits), expiring.",
    ),
    Setting("CODE_TTL", 60, _positive_int, "Authorization code lifetime (s)."),
    Setting("ACCESS_TOKEN_TTL", 3600, _positive_int, "Access token lifetime (s)."),
    Setting("REFRESH_TOKEN_TTL", 2592000, _positive_int, "Refresh token lifetime (s)."),
    Setting("ACTIVATION_LINK_TTL", 86400, _positive_int, "Activation link lifetime (s)."),
    Setting("RESET_LINK_TTL", 3600, _positive_int, "Password reset link lifetime (s)."),
    Setting("PROVISIONAL_PASSWORD_TTL", 7776000, _positive_int, "Provisional password (s)."),
    Setting("SESSION_IDLE_TTL", 1800, _positive_int, "Sign-in session idle timeout (s)."),
    Setting("SESSION_MAX_TTL", 43200, _positive_int, "Sign-in session absolute lifetime (s)."),
    Setting(
        "PURGE_GRACE", 86400, _positive_int, "Expired codes, tokens, links kept this long (s)."
    ),
    Setting("AUDIT_RETENTION", 31536000, _positive_int, "Audit events kept this long (s)."),
    Setting(
        "NEVER_ACTIVATED_RETENTION",
        31536000,
        _positive_int,
        "A never-activated account is deleted this long after its letter expired (s).",
    ),
    Setting(
        "INACTIVITY_WARNING",
        94608000,
        _positive_int,
        "An account unused this long is warned by mail that it will be disabled (s).",
    ),
    Setting(
        "INACTIVITY_GRACE",
        2592000,
        _positive_int,
        "A warned account still unused this long after the warning is disabled (s).",
    ),
    Setting("STAFF_SESSION_IDLE_TTL", 900, _positive_int, "School console idle timeout (s)."),
    Setting("STAFF_SESSION_MAX_TTL", 28800, _positive_int, "School console session lifetime (s)."),
    Setting(
        "STAFF_REAUTH_TTL",
        900,
        _positive_int,
        "Age of the last TOTP code beyond which a reset or an import asks for a new one (s).",
    ),
    Setting("STAFF_ENROLMENT_TTL", 259200, _positive_int, "Staff enrolment link lifetime (s)."),
    Setting(
        "TRUSTED_PROXIES",
        0,
        _proxy_hops,
        "Reverse proxies in front whose X-Forwarded-* headers are trusted (hops).",
    ),
    Setting("LOG_FORMAT", "text", _log_format, "text, or json: one JSON object per line."),
)
# Variables read by the test suite, not by the provider: tolerated in the environment.
IGNORED_PREFIXES = ("IDP_TEST_",)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the IDP_* variables; an unknown or malformed one raises ConfigError."""
    environ = os.environ if environ is None else environ
    values = {setting.name: setting.default for setting in SETTINGS}
    by_name = {setting.name: setting for setting in SETTINGS}
    for variable, raw in environ.items():
        if not variable.startswith("IDP_") or variable.startswith(IGNORED_PREFIXES):
            continue
        name = variable.removeprefix("IDP_")
        if name not in by_name:
            raise ConfigError(f"{variable}: unknown setting")
        try:
            values[name] = by_name[name].parse(raw)
        except ValueError as error:
            raise ConfigError(f"{variable}: {error}") from None
    return values


def check_config(config: Mapping[str, Any]) -> None:
    """Fail fast, in one line, on a setting that can't work together with the others."""
    if config["SESSION_IDLE_TTL"] > config["SESSION_MAX_TTL"]:
        raise ConfigError("IDP_SESSION_IDLE_TTL: longer than IDP_SESSION_MAX_TTL")
    if config["STAFF_SESSION_IDLE_TTL"] > config["STAFF_SESSION_MAX_TTL"]:
        raise ConfigError("IDP_STAFF_SESSION_IDLE_TTL: longer than IDP_STAFF_SESSION_MAX_TTL")
    if not urlsplit(config["ISSUER"]).hostname:
        raise ConfigError("IDP_ISSUER: no host in the URL")


def instance_secret(instance_path: str) -> str:
    """The generated secret kept in instance/, for a laptop that sets no IDP_SECRET_KEY."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def resolve_defaults(config: dict[str, Any], instance_path: str) -> None:
    """Fill the defaults that depend on the instance folder or on the issuer."""
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'idp.sqlite3'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = instance_secret(instance_path)
    if not config.get("MAIL_FROM"):
        config["MAIL_FROM"] = f"ne-pas-repondre@{urlsplit(config['ISSUER']).hostname}"
    keys_dir = Path(config["KEYS_DIR"])
    if not keys_dir.is_absolute():
        keys_dir = Path(instance_path).parent / keys_dir
    config["KEYS_DIR"] = str(keys_dir)
