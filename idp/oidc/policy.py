"""What must hold before a code is issued, checked in order (OpenID Connect Core §3.1.2.3).

signed in → account active (activation, then email confirmation) → sign-in fresh enough for
`prompt=login` and `max_age`. The first unmet requirement decides: with `prompt=none` it is an
error for the client; otherwise the request waits as an Interaction while the parent meets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from idp.models import LoginSession
from idp.models.base import utcnow
from idp.sessions import SignedIn


@dataclass(frozen=True)
class Requirement:
    name: str
    error: str  # the OAuth error when the client asked for prompt=none


SIGN_IN = Requirement("sign_in", "login_required")
ACTIVATION = Requirement("activation", "interaction_required")
FRESH_SIGN_IN = Requirement("fresh_sign_in", "login_required")


def max_age(params: Mapping[str, str]) -> int | None:
    """The `max_age` parameter; ValueError when it is not a whole number of seconds."""
    raw = params.get("max_age")
    if raw is None or raw == "":
        return None
    value = int(raw)
    if value < 0:
        raise ValueError("negative max_age")
    return value


def first_unmet(
    params: Mapping[str, str],
    login_session: SignedIn | LoginSession | None,
    waiting_since: datetime | None = None,
) -> Requirement | None:
    """The first requirement the browser does not meet, or None when a code may be issued.

    ``waiting_since`` is when a resumed request was put on hold: a sign-in after that moment
    satisfies `prompt=login` and `max_age`, which the parent just went through for it.
    A malformed `max_age` raises ValueError whatever the session.
    """
    limit = max_age(params)
    if login_session is None:
        return SIGN_IN
    if not login_session.account.is_active:
        return ACTIVATION
    if waiting_since is not None and login_session.auth_time >= waiting_since:
        return None
    too_old = limit is not None and utcnow() - login_session.auth_time > timedelta(seconds=limit)
    if "login" in params.get("prompt", "").split() or too_old:
        return FRESH_SIGN_IN
    return None
