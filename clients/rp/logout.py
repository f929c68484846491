"""Back-Channel Logout 1.0 on the teleservice's side: checking a logout token (§2.6) and
remembering which sessions it ended.

The sessions of a demo teleservice live in its signed cookie, out of its reach: it remembers
the ended `sid`s (and, for a token with only a `sub`, the moment every older session of that
parent ended) in memory, and a request from an ended session clears its cookie. A real
teleservice keeps this in its session store, shared by its processes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = ["RS256", "ES256"]
CLOCK_SKEW = 300  # seconds of iat in the future (or tokens older than that) accepted


class InvalidLogoutToken(ValueError):
    """A logout token the teleservice must refuse (400)."""


def verify_logout_token(token: str, jwks: dict, issuer: str, client_id: str) -> dict[str, Any]:
    """§2.6: signature by a published key, iss, aud, iat, events, sid or sub, no nonce."""
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise InvalidLogoutToken(f"signature: {exc}") from None
    claims = decoded.claims
    typ = decoded.header.get("typ")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience or []
    now = time.time()
    problems = {
        "typ": typ is not None and typ != "logout+jwt",
        "iss": claims.get("iss") != issuer,
        "aud": client_id not in audiences,
        "iat": not isinstance(claims.get("iat"), int) or abs(now - claims["iat"]) > CLOCK_SKEW,
        "exp": isinstance(claims.get("exp"), int) and claims["exp"] < now - CLOCK_SKEW,
        "events": not isinstance(claims.get("events"), dict) or EVENT not in claims["events"],
        "sid/sub": not (claims.get("sid") or claims.get("sub")),
        "nonce": "nonce" in claims,
    }
    wrong = [name for name, bad in problems.items() if bad]
    if wrong:
        raise InvalidLogoutToken(f"bad {', '.join(wrong)}")
    return dict(claims)


class EndedSessions:
    """The sessions ended by the provider, checked at each request of the teleservice."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sids: set[str] = set()
        self._subs: dict[str, int] = {}  # sub → every session signed in before this ended

    def end(self, claims: dict[str, Any]) -> None:
        with self._lock:
            if claims.get("sid"):
                self._sids.add(claims["sid"])
            else:
                self._subs[claims["sub"]] = int(claims["iat"])

    def covers(self, user: dict[str, Any]) -> bool:
        with self._lock:
            if user.get("sid") and user["sid"] in self._sids:
                return True
            ended_at = self._subs.get(user.get("sub", ""))
            return ended_at is not None and user.get("signed_in_at", 0) <= ended_at
