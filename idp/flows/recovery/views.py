"""The self-help pages: forgotten identifier, forgotten password, and the mailed reset link.

Both request forms answer the same neutral page, whatever was typed (see service); every form
here shares one rate limit per client address (idp.flows.throttle.SELF_HELP_LIMITS).
"""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from idp.extensions import limiter
from idp.flows import mailed_links, throttle
from idp.flows.outcome import show_errors
from idp.flows.recovery import service
from idp.flows.recovery.forms import ForgottenIdentifierForm, ForgottenPasswordForm, ResetForm
from idp.messages import message

bp = Blueprint("recovery", __name__, url_prefix="/recovery")

self_help_limit = limiter.shared_limit(
    throttle.SELF_HELP_LIMITS, scope="self-help", methods=["POST"]
)
NO_STORE = {"Cache-Control": "no-store"}  # the reset page's address holds the link's token


@bp.route("/identifier", methods=["GET", "POST"])
@self_help_limit
def forgot_identifier() -> str | tuple[str, int]:
    form = ForgottenIdentifierForm()
    if form.validate_on_submit():
        service.ask_identifiers(form.email.data)
        return render_template("recovery/sent.html", kind="identifier")
    page = render_template("recovery/identifier.html", form=form)
    return page, (400 if form.errors else 200)


@bp.route("/password", methods=["GET", "POST"])
@self_help_limit
def forgot_password() -> str | tuple[str, int]:
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        service.ask_reset_link(form.identifier.data)
        return render_template("recovery/sent.html", kind="password")
    page = render_template("recovery/password.html", form=form)
    return page, (400 if form.errors else 200)


@bp.route("/password/<token>", methods=["GET", "POST"])
@self_help_limit
def reset_password(token: str) -> Response | tuple[str, int, dict]:
    form = ResetForm()
    if form.validate_on_submit():
        result = service.reset_password(token, form.new_password.data)
        if result.outcome == service.RESET:
            return render_template("recovery/reset_done.html"), 200, NO_STORE
    else:
        result = service.open_link(token)
    if result.outcome not in (service.VALID, service.INVALID):
        return _link_problem(result.outcome)
    show_errors(form, result.errors)
    page = render_template("recovery/reset.html", form=form, account=result.account, token=token)
    return page, (400 if form.errors else 200), NO_STORE


def _link_problem(outcome: str) -> tuple[str, int, dict]:
    if outcome == service.UNAVAILABLE:
        text = message("recovery.unavailable")
    else:
        text = mailed_links.problem_message(outcome)
    page = render_template(
        "recovery/link_problem.html",
        message=text,
        offer_new_link=outcome != service.UNAVAILABLE,
    )
    return page, 400, NO_STORE
