"""Signing keys: PEM files in IDP_KEYS_DIR, parsed once per process, reloaded when they change.

Parsing a PEM costs tens of milliseconds, signing with a loaded key well under one: keys are
loaded once and kept until the folder changes (a new file from `idp keys rotate`, or one removed),
which every process notices within a second, without a restart.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from joserfc.jwk import ECKey, KeySet, RSAKey

# The algorithms offered, their key type, and how a new key is made.
ALGORITHMS = {
    "RS256": (RSAKey, lambda: RSAKey.generate_key(2048, private=True)),
    "ES256": (ECKey, lambda: ECKey.generate_key("P-256", private=True)),
}
DEFAULT_ALG = "RS256"
RECHECK_SECONDS = 1.0


class KeysUnavailable(Exception):
    """The key folder is missing, unreadable or holds no key for an algorithm."""


@dataclass(frozen=True)
class LoadedKeys:
    signing: dict[str, RSAKey | ECKey]  # the newest key of each algorithm
    public_jwks: dict  # every key, public parts only, as published at jwks_uri
    jwks_body: bytes = b""  # public_jwks as served, built once per set of keys
    jwks_etag: str = ""


def _alg_of(path: Path) -> str | None:
    suffix = path.stem.rsplit("-", 1)[-1].upper()
    return suffix if suffix in ALGORITHMS else None


def _load(folder: Path) -> LoadedKeys:
    signing: dict[str, RSAKey | ECKey] = {}
    published = []
    for path in sorted(folder.glob("*.pem")):
        alg = _alg_of(path)
        if alg is None:
            continue
        key_type, _ = ALGORITHMS[alg]
        parsed = key_type.import_key(path.read_bytes())  # the PEM is parsed once: ~50 ms
        kid = parsed.thumbprint()
        key = key_type.import_key(parsed.raw_value, {"kid": kid, "use": "sig", "alg": alg})
        signing[alg] = key  # sorted by name, which starts with the creation time: newest wins
        published.append(key)
    missing = set(ALGORITHMS) - set(signing)
    if missing:
        raise KeysUnavailable(f"IDP_KEYS_DIR: no {', '.join(sorted(missing))} key in {folder}")
    jwks = KeySet(published).as_dict(private=False)
    body = json.dumps(jwks, separators=(",", ":")).encode()
    etag = hashlib.sha256(body).hexdigest()[:32]
    return LoadedKeys(signing=signing, public_jwks=jwks, jwks_body=body, jwks_etag=etag)


class KeyStore:
    """The keys of one folder, shared by the threads of a process."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._loaded: LoadedKeys | None = None
        self._stamp: tuple | None = None
        self._checked_at = 0.0

    def _folder_stamp(self) -> tuple:
        return tuple(
            (entry.name, entry.stat().st_mtime_ns)
            for entry in sorted(os.scandir(self.folder), key=lambda e: e.name)
            if entry.name.endswith(".pem")
        )

    def current(self) -> LoadedKeys:
        now = time.monotonic()
        if self._loaded is not None and now - self._checked_at < RECHECK_SECONDS:
            return self._loaded
        with self._lock:
            try:
                stamp = self._folder_stamp()
            except OSError as error:
                raise KeysUnavailable(f"IDP_KEYS_DIR: cannot read {self.folder}: {error}") from None
            if stamp != self._stamp or self._loaded is None:
                self._loaded = _load(self.folder)
                self._stamp = stamp
            self._checked_at = now
            return self._loaded

    def signing_key(self, alg: str = DEFAULT_ALG) -> RSAKey | ECKey:
        return self.current().signing[alg]

    def public_jwks(self) -> dict:
        return self.current().public_jwks

    def has_keys(self) -> bool:
        return self.folder.is_dir() and all(
            any(_alg_of(path) == alg for path in self.folder.glob("*.pem")) for alg in ALGORITHMS
        )

    def add_keys(self) -> list[str]:
        """Write a new key of each algorithm; they sign from now on. Returns their kids."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        kids = []
        for alg, (_, generate) in ALGORITHMS.items():
            key = generate()
            path = self.folder / f"{stamp}-{alg.lower()}.pem"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(key.as_pem(private=True))
            kids.append(key.thumbprint())
        self._checked_at = 0.0
        return kids
