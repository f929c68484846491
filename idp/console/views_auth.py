"""Signing in to the console, enrolling, and giving the second factor again."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp import audit
from idp.console import sessions, signin, totp
from idp.console import staff as staff_service
from idp.console.auth import safe_next, staff_required
from idp.console.blueprint import bp
from idp.console.forms import CodeForm, ConfirmForm, PasswordForm, SignInForm
from idp.extensions import db, limiter
from idp.flows import throttle
from idp.messages import flash_message, message
from idp.models.staff import ENROLLING, ENROLMENT, PASSWORD_CHECKED, SIGNED_IN


def _refused(template: str, status: int, attempt: signin.Attempt, **context) -> tuple:
    page = render_template(template, refusal=attempt.refusal, **context)
    if attempt.retry_after is not None:
        return page, 429, {"Retry-After": str(attempt.retry_after)}
    return page, status


@bp.route("", methods=["GET", "POST"])
@limiter.limit(throttle.LOGIN_LIMITS, methods=["POST"])
def sign_in() -> Response | str | tuple:
    item = sessions.current()
    if request.method == "GET" and item is not None and item.stage == SIGNED_IN:
        return redirect(url_for("console.families_list"))
    form = SignInForm()
    if form.validate_on_submit():
        attempt = signin.check_password_step(form.email.data, form.password.data)
        if attempt.staff is None:
            return _refused("console/sign_in.html", 401, attempt, form=form)
        stage = ENROLMENT if attempt.staff.status == ENROLLING else PASSWORD_CHECKED
        sessions.start(attempt.staff, stage)
        return redirect(url_for("console.authenticator" if stage == ENROLMENT else "console.code"))
    return render_template("console/sign_in.html", form=form, refusal=None)


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(throttle.LOGIN_LIMITS, methods=["POST"])
def code() -> Response | str | tuple:
    item = sessions.current()
    if item is None or item.stage != PASSWORD_CHECKED:
        return redirect(url_for("console.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        staff = item.staff
        attempt = signin.waiting_refusal(staff)
        if attempt is not None:
            return _refused("console/code.html", 401, attempt, form=form)
        kind = totp.check_second_factor(staff, form.totp.data)
        if kind is None:
            db.session.rollback()
            attempt = signin.second_factor_failed(staff)
            return _refused("console/code.html", 401, attempt, form=form)
        signin.succeeded(staff)
        audit.record("staff_login", commit=False, staff_id=staff.id, factor=kind)
        sessions.start(staff, SIGNED_IN)
        sessions.promote(sessions.current(), SIGNED_IN)
        return redirect(url_for("console.families_list"))
    return render_template("console/code.html", form=form, refusal=None)


@bp.post("/deconnexion")
def sign_out() -> Response:
    if ConfirmForm().validate_on_submit():
        sessions.end()
        flash_message("console.signed_out")
    return redirect(url_for("console.sign_in"))


@bp.route("/inscription/<token>", methods=["GET", "POST"])
def enrol(token: str) -> Response | str | tuple:
    staff = staff_service.find_by_enrolment(token)
    if staff is None:
        return render_template(
            "console/link_problem.html", problem=message("console.enrolment_link_invalid")
        ), 410
    form = PasswordForm()
    if form.validate_on_submit():
        problems = staff_service.choose_password(staff, token, form.new_password.data)
        if not problems:
            sessions.start(staff, ENROLMENT)
            return redirect(url_for("console.authenticator"))
        form.new_password.errors = problems
    return render_template("console/enrol.html", form=form, staff=staff)


@bp.route("/inscription/authentificateur", methods=["GET", "POST"])
@limiter.limit(throttle.LOGIN_LIMITS, methods=["POST"])
def authenticator() -> Response | str | tuple:
    item = sessions.current()
    if item is None or item.stage != ENROLMENT or item.staff.status != ENROLLING:
        return redirect(url_for("console.sign_in"))
    staff = item.staff
    form = CodeForm()
    refusal = None
    if form.validate_on_submit():
        if totp.check_code(staff, form.totp.data):
            codes = staff_service.finish_enrolment(staff)
            sessions.start(staff, SIGNED_IN)
            sessions.promote(sessions.current(), SIGNED_IN)
            flash_message("console.enrolled")
            return render_template("console/recovery_codes.html", codes=codes)
        db.session.rollback()
        refusal = message("console.code_wrong")
    page = render_template(
        "console/authenticator.html",
        form=form,
        refusal=refusal,
        qr=totp.qr_svg(staff),
        secret=totp.grouped_secret(staff),
    )
    return (page, 401) if refusal else page


@bp.route("/verification", methods=["GET", "POST"])
@staff_required
@limiter.limit(throttle.LOGIN_LIMITS, methods=["POST"])
def verify() -> Response | str | tuple:
    item = sessions.current()
    target = safe_next(request.values.get("next"))
    form = CodeForm()
    if form.validate_on_submit():
        staff = item.staff
        attempt = signin.waiting_refusal(staff)
        if attempt is not None:
            return _refused("console/verify.html", 401, attempt, form=form, target=target)
        kind = totp.check_second_factor(staff, form.totp.data)
        if kind is None:
            db.session.rollback()
            attempt = signin.second_factor_failed(staff)
            return _refused("console/verify.html", 401, attempt, form=form, target=target)
        signin.succeeded(staff)
        audit.record("staff_second_factor", commit=False, staff_id=staff.id, factor=kind)
        sessions.promote(item, SIGNED_IN)
        return redirect(target)
    return render_template("console/verify.html", form=form, refusal=None, target=target)
