"""Configuration of the LSU demo teleservice, read from the environment."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_ISSUER = "http://127.0.0.1:5000"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5001"


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration is unusable (one-line message)."""


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    client_secret: str
    public_url: str
    secret_key: str

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.public_url}/"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def _lookup(overrides: Mapping[str, Any], key: str) -> str | None:
    """Return the value of ``key`` from the overrides, else the environment; blank means unset."""
    value = overrides.get(key)
    if value is None or value == "":
        value = os.environ.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _read_client_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"LSU_CLIENT_FILE: cannot read {path!r}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"LSU_CLIENT_FILE: {path!r} must hold a JSON object")
    return data


def _client_credentials(overrides: Mapping[str, Any]) -> tuple[str, str]:
    """Client id and secret from the variables, completed by LSU_CLIENT_FILE if needed."""
    client_id = _lookup(overrides, "LSU_CLIENT_ID")
    client_secret = _lookup(overrides, "LSU_CLIENT_SECRET")
    path = _lookup(overrides, "LSU_CLIENT_FILE")
    if path and not (client_id and client_secret):
        data = _read_client_file(path)
        client_id = client_id or str(data.get("client_id") or "") or None
        client_secret = client_secret or str(data.get("client_secret") or "") or None
    if not client_id or not client_secret:
        pairs = (("LSU_CLIENT_ID", client_id), ("LSU_CLIENT_SECRET", client_secret))
        missing = [name for name, value in pairs if not value]
        raise ConfigError(
            f"{' and '.join(missing)} not set (set the environment or LSU_CLIENT_FILE)"
        )
    return client_id, client_secret


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build the settings; ``overrides`` uses the same keys as the environment."""
    overrides = overrides or {}
    client_id, client_secret = _client_credentials(overrides)
    public_url = _lookup(overrides, "LSU_PUBLIC_URL") or DEFAULT_PUBLIC_URL
    return Settings(
        issuer=_lookup(overrides, "LSU_ISSUER") or DEFAULT_ISSUER,
        client_id=client_id,
        client_secret=client_secret,
        public_url=public_url.rstrip("/"),
        secret_key=_lookup(overrides, "LSU_SECRET_KEY") or secrets.token_hex(32),
    )
