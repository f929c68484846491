"""A school's export imported from the console: checked, restricted to the staff's schools,
planned (shown) before anything is written, then applied by idp.provisioning.families."""

from __future__ import annotations

from dataclasses import dataclass, field

from idp import audit
from idp.console.downloads import store
from idp.console.staff import by
from idp.extensions import db
from idp.models import Child, Staff
from idp.provisioning.bulk_credentials import credentials_csv
from idp.provisioning.export import Export, ExportRejected, Problem, read_export
from idp.provisioning.families import ImportResult, import_families
from idp.provisioning.import_plan import plan_import
from idp.provisioning.letters import render


@dataclass
class Checked:
    """The file's families, or every problem; and what importing it would do."""

    export: Export | None = None
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    links_added: int = 0
    links_removed: int = 0
    departed_links: int = 0  # links of children the school's file no longer lists


def _out_of_scope(export: Export, uais: list[str]) -> list[Problem]:
    """A pupil of another school, in the file or already known there, is an error."""
    problems = []
    for ref, pupil in export.children.items():
        line = export.first_lines[("child", ref)]
        if pupil.school_uai not in uais:
            reason = f"school {pupil.school_uai} is not one of your schools"
            problems.append(Problem(line, "school_uai", reason))
    refs = list(export.children)
    known = db.session.execute(
        Child.__table__.select().where(Child.ref.in_(refs), Child.school_uai.not_in(uais))
    ).all()
    for row in known:
        line = export.first_lines[("child", row.ref)]
        problems.append(Problem(line, "child_ref", "a pupil of another school has this ref"))
    return sorted(problems, key=lambda problem: problem.line)


def check(data: bytes, name: str, uais: list[str]) -> Checked:
    """Read the file and plan it; nothing is written."""
    try:
        export = read_export(data, name)
    except ExportRejected as rejected:
        return Checked(problems=rejected.problems)
    problems = _out_of_scope(export, uais)
    if problems:
        return Checked(problems=problems)
    plan = plan_import(export)
    updated = plan.updated_accounts()
    db.session.rollback()
    return Checked(
        export,
        created=len(plan.new_parents()),
        updated=len(updated),
        unchanged=plan.unchanged_accounts(updated),
        links_added=len(plan.new_links()),
        links_removed=len(plan.stale_links()),
        departed_links=len(plan.departed),
    )


@dataclass
class Applied:
    result: ImportResult
    letters_id: str
    credentials_id: str


def apply(staff: Staff, data: bytes, name: str) -> Applied | Checked:
    """Check again (the file came back from the browser), then import; the letters and the
    credentials are stored for download in the import's transaction."""
    checked = check(data, name, staff.uais)
    if checked.export is None:
        return checked
    ids: dict[str, str] = {}

    def deliver(result: ImportResult) -> None:
        ids["letters"] = store(
            staff, "courriers.pdf", "application/pdf", render(result.letters())
        ).id
        csv = credentials_csv(result.created).encode("utf-8")
        ids["credentials"] = store(staff, "identifiants.csv", "text/csv", csv).id
        audit.record(
            "console_families_imported",
            commit=False,
            file=name,
            created=len(result.created),
            **by(staff),
        )

    result = import_families(checked.export, deliver)
    return Applied(result, ids["letters"], ids["credentials"])
