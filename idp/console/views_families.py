"""The families of my school, an account's page, and helping a family (each action confirmed)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.console import actions, downloads, families, scope
from idp.console.auth import fresh_factor, staff_required
from idp.console.blueprint import bp
from idp.console.forms import ConfirmForm, ReportForm
from idp.messages import flash_message
from idp.models.accounts import ACTIVE, DISABLED, LOCKED, PENDING_EMAIL, PROVISIONAL
from idp.provisioning.helpdesk import last_mail


@bp.get("/familles")
@staff_required
def families_list() -> str:
    text = request.args.get("q", "")[:100]
    class_level = request.args.get("classe", "")[:32]
    status = request.args.get("statut", "")
    if status not in (PROVISIONAL, PENDING_EMAIL, ACTIVE, LOCKED, DISABLED, families.REPORTED):
        status = ""
    found = families.search(text, class_level, status)
    return render_template(
        "console/families.html",
        accounts=found,
        q=text,
        class_level=class_level,
        status=status,
        classes=families.classes(),
        limit=families.PAGE,
        f=families,
    )


@bp.get("/comptes/<identifier>")
@staff_required
def account(identifier: str) -> str:
    found = scope.account_or_404(identifier)
    download_id = request.args.get("courrier")
    letter = scope.download_or_404(download_id) if download_id else None
    return render_template(
        "console/account.html",
        account=found,
        f=families,
        letter=letter,
        last_mail=last_mail(found),
        form=ConfirmForm(),
    )


def _back(found, message_id: str, **values) -> Response:
    flash_message(message_id)
    return redirect(url_for("console.account", identifier=found.identifier, **values))


@bp.route("/comptes/<identifier>/reinitialiser", methods=["GET", "POST"])
@staff_required
@fresh_factor
def reset(identifier: str) -> Response | str:
    found = scope.account_or_404(identifier)
    form = ConfirmForm()
    if form.validate_on_submit():
        download_id = actions.reset(scope.current_staff(), found)
        return _back(found, "console.reset_done", courrier=download_id)
    return render_template("console/confirm_reset.html", account=found, form=form)


@bp.route("/comptes/<identifier>/debloquer", methods=["GET", "POST"])
@staff_required
def unlock(identifier: str) -> Response | str:
    found = scope.account_or_404(identifier)
    if found.status != LOCKED:
        return _back(found, "console.not_locked")
    form = ConfirmForm()
    if form.validate_on_submit():
        done = actions.unlock(scope.current_staff(), found)
        return _back(found, "console.unlocked" if done else "console.not_locked")
    return render_template("console/confirm_unlock.html", account=found, form=form, f=families)


@bp.route("/comptes/<identifier>/activation", methods=["GET", "POST"])
@staff_required
def resend(identifier: str) -> Response | str:
    found = scope.account_or_404(identifier)
    if found.status != PENDING_EMAIL:
        return _back(found, "console.not_pending")
    form = ConfirmForm()
    if form.validate_on_submit():
        sent = actions.resend_activation(scope.current_staff(), found)
        return _back(found, "console.activation_resent" if sent else "console.activation_not_sent")
    return render_template("console/confirm_resend.html", account=found, form=form)


@bp.route("/comptes/<identifier>/signalement", methods=["GET", "POST"])
@staff_required
def report(identifier: str) -> Response | str:
    found = scope.account_or_404(identifier)
    if not families.is_reported(found):
        return _back(found, "console.no_report")
    child = families.reported_child(found)
    form = ReportForm()
    if form.validate_on_submit():
        actions.resolve_report(scope.current_staff(), found, child, form.decision.data)
        return _back(found, "console.report_resolved")
    return render_template("console/report.html", account=found, child=child, form=form)


@bp.get("/telechargements/<download_id>")
@staff_required
def download(download_id: str) -> Response:
    item = scope.download_or_404(download_id)
    try:
        body = downloads.content(item)
    except Exception:  # noqa: BLE001 (a key changed since: the file is gone for good)
        abort(404)
    return Response(
        body,
        mimetype=item.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{item.filename}"'},
    )
