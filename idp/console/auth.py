"""Who may see a console page: `staff_required` (both factors given) and `fresh_factor` (a
second factor given within IDP_STAFF_REAUTH_TTL, for a reset or an import)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, redirect, request, url_for

from idp.console import sessions
from idp.models.staff import SIGNED_IN

View = TypeVar("View", bound=Callable[..., Any])


def staff_required(view: View) -> View:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        item = sessions.current()
        if item is None or item.stage != SIGNED_IN:
            return redirect(url_for("console.sign_in"))
        g.staff = item.staff
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def fresh_factor(view: View) -> View:
    """Under staff_required: a second factor older than the limit is asked again first; the
    page then comes back (a POST comes back as the GET of the same page, to confirm again)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not sessions.factor_is_fresh(sessions.current()):
            return redirect(url_for("console.verify", next=request.path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Only a path of the console itself, never another site."""
    if (
        target
        and target.startswith(sessions.PATH + "/")
        and "//" not in target
        and "\\" not in target
    ):
        return target
    return url_for("console.families_list")
