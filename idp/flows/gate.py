"""Who may see a page: ``login_required``, ``active_required``, and the gate.

The gate (a ``before_app_request`` hook) sends any signed-in account that is not active to the
page for its status, from any URL but its own flow's, sign-out and static files. The decorators
say, on each view, what it needs; a view without one is open to anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, redirect, request, url_for
from werkzeug.wrappers import Response

from idp import sessions

View = TypeVar("View", bound=Callable[..., Any])

# Where an account that is not active may still go: its own step, sign-out, the OIDC pipeline
# (which applies the same rule through oidc.policy), static files, the footer pages and the
# language switch, and the school console (staff sign in there on their own; a parent's session
# means nothing to it).
OPEN_TO_INACTIVE = ("activation.", "oidc.", "static", "login.", "pages.", "console.")


def login_required(view: View) -> View:
    """The view needs a signed-in browser; without one, the login page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if sessions.current_session() is None:
            return redirect(url_for("login.login"))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def active_required(view: View) -> View:
    """The view needs a signed-in browser whose account is active (activated, confirmed)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        account = sessions.current_account()
        if account is None:
            return redirect(url_for("login.login"))
        if not account.is_active:
            return redirect(url_for("activation.required"))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _gate() -> Response | None:
    endpoint = request.endpoint or ""
    if endpoint.startswith(OPEN_TO_INACTIVE):
        return None
    account = sessions.current_account()
    if account is not None and not account.is_active:
        return redirect(url_for("activation.required"))
    return None


def init_app(app: Flask) -> None:
    app.before_request(_gate)
