"""Passwords people choose (bcrypt) and random secrets the provider makes (keyed SHA-256).

bcrypt reads only 72 bytes, and recent releases refuse more; a password is therefore normalised
(NFKC) and pre-hashed with SHA-256 before bcrypt, so that any length of any Unicode counts whole.
Random high-entropy secrets (client secrets, codes, tokens, link tokens) need no slow hash: a keyed
SHA-256 keeps the token endpoint fast while a copy of the database gives nothing usable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from functools import cache

import bcrypt
from flask import current_app

# Letters and digits that can't be confused on paper: no 0/O/o, 1/l/I, nor 5/S, 2/Z, 8/B.
UNAMBIGUOUS = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"


def _prehash(password: str) -> bytes:
    normalised = unicodedata.normalize("NFKC", password).encode("utf-8")
    return base64.b64encode(hashlib.sha256(normalised).digest())


def hash_password(password: str, rounds: int | None = None) -> str:
    rounds = rounds or current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:
        return False


@cache
def _dummy_hash(rounds: int) -> str:
    return bcrypt.hashpw(b"not a password", bcrypt.gensalt(rounds)).decode("ascii")


def spend_password_check_time(password: str) -> None:
    """Cost an unknown identifier the same time as a known one, so timing tells nothing."""
    check_password(password, _dummy_hash(current_app.config["BCRYPT_ROUNDS"]))


def _hash_key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(secret, b"idp keyed secret hash", hashlib.sha256).digest()


def secret_hash(value: str) -> str:
    """The keyed hash under which a random secret is stored and looked up."""
    return hmac.new(_hash_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def secret_matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(value), stored_hash)


def new_secret(nbytes: int = 32) -> str:
    """A random secret to hand out (client secrets: 256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def provisional_password(length: int = 12) -> str:
    """A password for a paper letter: random, readable, with digits and both cases."""
    while True:
        password = "".join(secrets.choice(UNAMBIGUOUS) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password
