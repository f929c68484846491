"""The school's import (plan first, then apply), its figures, and its team (delegation)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from idp.console import families, imports, scope
from idp.console import staff as staff_service
from idp.console.auth import fresh_factor, staff_required
from idp.console.blueprint import bp
from idp.console.forms import ApplyForm, ConfirmForm, DeputyForm, UploadForm
from idp.extensions import db
from idp.messages import flash_message
from idp.models import School
from idp.models.staff import DEPUTY
from idp.provisioning.accounts import ProvisioningError

DEFAULT_DAYS = 30


@bp.route("/import", methods=["GET", "POST"])
@staff_required
@fresh_factor
def import_file() -> str | tuple:
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.export.data
        data = upload.read()
        name = (upload.filename or "export.csv")[:128]
        checked = imports.check(data, name, scope.my_schools())
        apply_form = ApplyForm(name=name, content=data.decode("utf-8", "replace"))
        page = render_template(
            "console/import_plan.html", checked=checked, name=name, form=apply_form
        )
        return (page, 422) if checked.problems else page
    return render_template("console/import.html", form=form, schools=_schools())


@bp.post("/import/appliquer")
@staff_required
@fresh_factor
def apply_import() -> Response | str | tuple:
    form = ApplyForm()
    if not form.validate_on_submit() or not form.content.data:
        return redirect(url_for("console.import_file"))
    name = (form.name.data or "export.csv")[:128]
    outcome = imports.apply(scope.current_staff(), form.content.data.encode("utf-8"), name)
    if isinstance(outcome, imports.Checked):
        page = render_template("console/import_plan.html", checked=outcome, name=name, form=form)
        return page, 422
    flash_message("console.import_applied")
    return render_template("console/import_done.html", applied=outcome)


def _schools() -> list[School]:
    uais = scope.my_schools()
    return list(db.session.scalars(db.select(School).where(School.uai.in_(uais))))


@bp.get("/chiffres")
@staff_required
def figures() -> str:
    try:
        days = max(1, min(int(request.args.get("jours", DEFAULT_DAYS)), 3650))
    except ValueError:
        days = DEFAULT_DAYS
    return render_template("console/figures.html", figures=families.figures(days))


@bp.route("/equipe", methods=["GET", "POST"])
@staff_required
def team() -> Response | str | tuple:
    director = scope.current_staff()
    uais = scope.directed_schools()
    if not uais:
        abort(404)
    form = DeputyForm()
    form.school.choices = [SelectChoice(uai, uai) for uai in uais]
    if len(uais) == 1 and request.method == "GET":
        form.school.data = uais[0]
    if form.validate_on_submit():
        try:
            staff_service.add_staff(
                form.email.data,
                form.given_name.data,
                form.family_name.data,
                [form.school.data],
                role=DEPUTY,
                created_by=director,
            )
        except ProvisioningError:
            flash_message("console.deputy_refused", "error")
        else:
            flash_message("console.deputy_invited")
        return redirect(url_for("console.team"))
    return render_template(
        "console/team.html",
        form=form,
        deputies=staff_service.deputies(director),
        remove_form=ConfirmForm(),
    )


@bp.post("/equipe/<int:staff_id>/retirer")
@staff_required
def remove_deputy(staff_id: int) -> Response:
    if not scope.directed_schools():
        abort(404)
    deputy = scope.deputy_or_404(staff_id)
    if ConfirmForm().validate_on_submit():
        staff_service.remove_deputy(scope.current_staff(), deputy)
        flash_message("console.deputy_removed")
    return redirect(url_for("console.team"))
