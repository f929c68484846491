"""Configuration of a demo teleservice, read from its ``<PREFIX>_*`` environment variables."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_ISSUER = "http://127.0.0.1:5000"


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
    def backchannel_logout_uri(self) -> str:
        return f"{self.public_url}/backchannel-logout"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def _lookup(overrides: Mapping[str, Any], key: str) -> str | None:
    """The value of ``key`` from the overrides, else the environment; blank means unset."""
    value = overrides.get(key)
    if value is None or value == "":
        value = os.environ.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _read_client_file(name: str, path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{name}: cannot read {path!r}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: {path!r} must hold a JSON object")
    return data


def _client_credentials(prefix: str, overrides: Mapping[str, Any]) -> tuple[str, str]:
    """Client id and secret from the variables, completed by ``<PREFIX>_CLIENT_FILE``."""
    id_name, secret_name, file_name = (
        f"{prefix}_CLIENT_ID",
        f"{prefix}_CLIENT_SECRET",
        f"{prefix}_CLIENT_FILE",
    )
    client_id = _lookup(overrides, id_name)
    client_secret = _lookup(overrides, secret_name)
    path = _lookup(overrides, file_name)
    if path and not (client_id and client_secret):
        data = _read_client_file(file_name, path)
        client_id = client_id or str(data.get("client_id") or "") or None
        client_secret = client_secret or str(data.get("client_secret") or "") or None
    if not client_id or not client_secret:
        missing = [n for n, v in ((id_name, client_id), (secret_name, client_secret)) if not v]
        raise ConfigError(f"{' and '.join(missing)} not set (set the environment or {file_name})")
    return client_id, client_secret


def load_settings(
    prefix: str, default_public_url: str, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build the settings; ``overrides`` uses the same keys as the environment."""
    overrides = overrides or {}
    client_id, client_secret = _client_credentials(prefix, overrides)
    public_url = _lookup(overrides, f"{prefix}_PUBLIC_URL") or default_public_url
    return Settings(
        issuer=_lookup(overrides, f"{prefix}_ISSUER") or DEFAULT_ISSUER,
        client_id=client_id,
        client_secret=client_secret,
        public_url=public_url.rstrip("/"),
        secret_key=_lookup(overrides, f"{prefix}_SECRET_KEY") or secrets.token_hex(32),
    )
