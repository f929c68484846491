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
import re
import secrets
import unicodedata
from functools import cache
from urllib.parse import urlsplit

import bcrypt
from flask import current_app

from idp.messages import message

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


def check_password_evenly(password: str, password_hash: str) -> bool:
    """check_password, in the time of a chosen password's check whatever the stored cost.

    Provisional passwords are hashed at a lower cost (README: School provisioning): without
    this, a quicker answer would tell that an identifier belongs to a provisional account.
    """
    matches = check_password(password, password_hash)
    if _cost(password_hash) < current_app.config["BCRYPT_ROUNDS"]:
        spend_password_check_time(password)
    return matches


def _cost(password_hash: str) -> int:
    try:
        return int(password_hash.split("$")[2])
    except (IndexError, ValueError):
        return 0


def spend_password_check_time(password: str) -> None:
    """Cost an unknown identifier the same time as a known one, so timing tells nothing."""
    check_password(password, _dummy_hash(current_app.config["BCRYPT_ROUNDS"]))


def derived_key(purpose: bytes) -> bytes:
    """A key for one purpose, derived from IDP_SECRET_KEY once per application."""
    keys = current_app.extensions.setdefault("idp_derived_keys", {})
    if purpose not in keys:
        secret = current_app.config["SECRET_KEY"].encode("utf-8")
        keys[purpose] = hmac.new(secret, purpose, hashlib.sha256).digest()
    return keys[purpose]


def secret_hash(value: str) -> str:
    """The keyed hash under which a random secret is stored and looked up."""
    key = derived_key(b"idp keyed secret hash")
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def secret_matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(value), stored_hash)


def new_secret(nbytes: int = 32) -> str:
    """A random secret to hand out (client secrets: 256 bits by default).

    Never starting with `-`: a client id is typed after a command (`idp clients show ID`),
    where `-o…` would read as an option.
    """
    while True:
        token = secrets.token_urlsafe(nbytes)
        if token[0].isalnum():
            return token


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


# CNIL, deliberation 2022-100: at least 12 characters mixing three of four kinds, with a check
# against common passwords. zxcvbn (a maintained estimator with lists of common passwords)
# judges "common or easy to guess"; the kinds and the length are checked here.
MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_GUESS_SCORE = 3  # zxcvbn: 3 = "safely unguessable" for an online attack and more


# zxcvbn's list of the 30,000 most common passwords: "Azerty123456!" is "azerty" dressed up.
# Loaded on first use: zxcvbn's lists cost ~12 MB in every process, most never choose a password.
@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _fold(text: str) -> str:
    """Lowercase, without accents: `Lefèvre` and `lefevre` are the same name here."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# The service's own names (CNIL: no password tied to the service): the brand on every page,
# "Compte parent – Éducation", and the national one parents know, ÉduConnect.
SERVICE_WORDS = ("compteparent", "comptesparents", "educonnect", "education")
# Parts of a host name that say nothing of this service.
GENERIC_HOST_WORDS = frozenset({"www", "com", "org", "net", "fr", "gouv", "localhost", "example"})


def service_words() -> list[str]:
    """The service's names and the words of the issuer's host (`connexion.ecole-x.fr`)."""
    host = urlsplit(current_app.config["ISSUER"]).hostname or ""
    host_words = [w for w in re.split(r"[.\-_]", host) if len(w) >= 4 and not w.isdigit()]
    return [*SERVICE_WORDS, *(w for w in host_words if w not in GENERIC_HOST_WORDS)]


def built_on_the_service(password: str) -> bool:
    """Whether the password's letters hold the service's name or its host's words."""
    letters = "".join(c for c in _fold(password) if c.isalpha())
    return any(_fold(word) in letters for word in service_words())


def character_kinds(password: str) -> int:
    kinds = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(kinds)


def policy_problems(password: str, personal: list[str], provisional_hash: str | None) -> list[str]:
    """Why the password can't be chosen (empty when it can). ``personal``: identifier, names."""
    if len(password) < MIN_LENGTH:
        return [message("password.too_short")]
    if len(password) > MAX_LENGTH:
        return [message("password.too_long")]
    if character_kinds(password) < 3:
        return [message("password.too_few_kinds")]
    folded = _fold(password)
    if any(len(_fold(word)) >= 3 and _fold(word) in folded for word in personal):
        return [message("password.personal")]
    if built_on_the_service(password):
        return [message("password.service_name")]
    if provisional_hash and check_password(password, provisional_hash):
        return [message("password.provisional")]
    letters = "".join(c for c in folded if c.isalpha())
    from zxcvbn import zxcvbn

    common = folded in common_passwords() or letters in common_passwords()
    if (
        common
        or zxcvbn(password, user_inputs=personal, max_length=MAX_LENGTH)["score"] < MIN_GUESS_SCORE
    ):
        return [message("password.common")]
    return []
