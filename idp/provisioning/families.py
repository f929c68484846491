"""Importing a checked school export (docs/contract.md §5): what is new is created, what changed is
updated, nothing twice, all in one transaction.

What a re-import does (README, "School provisioning"):
- Parents are known by `parent_ref`, children by `child_ref`, schools by UAI. Names, birth
  dates, classes, schools and school names follow the file.
- A parent's identifier, password, status and email are never touched by an import.
- Links follow the file child by child: for each child in the file, the parents listed with it
  are its parents; a link to a parent the file no longer lists for that child is removed (a
  change of custody). A child absent from the file keeps its links, so one class's export, or one
  school's, leaves the others alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, update

from idp.extensions import db
from idp.models import Account, AuditEvent, Child, Link, School
from idp.models.accounts import PROVISIONAL
from idp.models.base import utcnow
from idp.passwords import provisional_password
from idp.provisioning import ProgressCallback
from idp.provisioning.accounts import provisional_expiry
from idp.provisioning.bulk_credentials import (
    Credential,
    Hashing,
    allocate_identifiers,
    chunks,
)
from idp.provisioning.export import Export, Pupil
from idp.provisioning.import_plan import Plan, plan_import
from idp.provisioning.letters import Letter

SOURCE = "families import"


@dataclass
class ImportResult:
    """What an import did; `created` holds the new accounts' passwords, for the letters only."""

    export: Export
    created: list[Credential] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0
    links_added: int = 0
    links_removed: int = 0
    children_departed: int = 0  # children of the file's schools it no longer lists: unlinked

    def document(self) -> dict[str, Any]:
        """The `--json` document of docs/contract.md §2."""
        return {
            "created": len(self.created),
            "updated": self.updated,
            "unchanged": self.unchanged,
            "accounts": [
                {
                    "parent_ref": item.parent_ref,
                    "identifier": item.identifier,
                    "provisional_password": item.password,
                }
                for item in self.created
            ],
        }

    def letters(self) -> list[Letter]:
        """One letter per new account, with the children and schools the file links to it."""
        export = self.export
        letters = []
        for item in self.created:
            pupils = [export.children[ref] for ref in export.children_of[item.parent_ref]]
            uais = dict.fromkeys(pupil.school_uai for pupil in pupils)
            letters.append(
                Letter(
                    parent_name=f"{item.given_name} {item.family_name}",
                    identifier=item.identifier,
                    password=item.password,
                    expires_at=item.expires_at,
                    children=[f"{p.given_name} {p.family_name} ({p.class_level})" for p in pupils],
                    schools=[(uai, export.schools[uai]) for uai in uais],
                )
            )
        return letters


def import_families(
    export: Export,
    deliver: Callable[[ImportResult], None] | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import a checked export in one transaction; commits once, or not at all.

    `deliver` gets the result, with the new passwords, before anything is committed: letters
    and credentials are drawn while the passwords are being hashed, and written while the import
    can still be undone, so that no account exists whose password nobody received. If `deliver`
    raises, nothing is imported.
    """
    plan = plan_import(export)
    try:
        created = _new_credentials(plan)
        updated = plan.updated_accounts()
        result = ImportResult(
            export,
            created,
            updated=len(updated),
            unchanged=plan.unchanged_accounts(updated),
            links_added=len(plan.new_links()),
            links_removed=len(plan.stale_links()),
            children_departed=len(plan.departed),
        )
        with Hashing([item.password for item in created]) as hashing:
            if deliver is not None:
                deliver(result)
            hashes = hashing.result(progress)
        _write(plan, created, hashes, updated)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def _new_credentials(plan: Plan) -> list[Credential]:
    """An identifier and a provisional password for each new parent (nothing written yet)."""
    new = plan.new_parents()
    identifiers = allocate_identifiers([(p.given_name, p.family_name) for p in new])
    expires_at = provisional_expiry()
    return [
        Credential(
            p.ref, identifier, provisional_password(), p.family_name, p.given_name, expires_at
        )
        for p, identifier in zip(new, identifiers, strict=True)
    ]


def _write(plan: Plan, created: list[Credential], hashes: list[str], updated: set[int]) -> None:
    """Every change of the plan, in batches, inside the caller's transaction."""
    new_schools = sorted(plan.export.schools.keys() - plan.school_names.keys())
    _insert(School, [{"uai": uai, "name": plan.export.schools[uai]} for uai in new_schools])
    _set_by_id(School, [{"uai": u, "name": n} for u, n in plan.renamed_schools().items()])
    child_ids = _write_children(plan)
    account_ids, new_ids = _write_parents(plan, created, hashes)
    for chunk in chunks([link_id for link_id, _ in plan.stale_links() + plan.departed]):
        db.session.execute(delete(Link).where(Link.id.in_(chunk)))
    links = [{"account_id": account_ids[p], "child_id": child_ids[c]} for p, c in plan.new_links()]
    _insert(Link, links)
    _audit(plan.export, new_ids, updated, departed=len(plan.departed))


def _write_children(plan: Plan) -> dict[str, int]:
    """New children inserted, changed ones updated; every child's id by ref."""
    new = plan.new_children()
    ids = _insert(Child, [_child_row(pupil) for pupil in new])
    _set_by_id(Child, [{"id": i, **_child_row(pupil)} for i, pupil in plan.changed_children()])
    return {ref: known.id for ref, known in plan.children.items()} | {
        pupil.ref: new_id for pupil, new_id in zip(new, ids, strict=True)
    }


def _write_parents(
    plan: Plan, created: list[Credential], hashes: list[str]
) -> tuple[dict[str, int], list[int]]:
    """New accounts inserted, renamed ones renamed (names only); ids by ref, and the new ids."""
    rows = [
        _account_row(item, password_hash)
        for item, password_hash in zip(created, hashes, strict=True)
    ]
    new_ids = _insert(Account, rows)
    renamed = plan.renamed_parents()
    names = [
        {"id": i, "family_name": p.family_name, "given_name": p.given_name} for i, p in renamed
    ]
    _set_by_id(Account, names)
    ids = {ref: known.id for ref, known in plan.parents.items()}
    ids |= {item.parent_ref: new_id for item, new_id in zip(created, new_ids, strict=True)}
    return ids, new_ids


def _insert(model: type, rows: list[dict[str, Any]]) -> list[Any]:
    """Insert in batches of 1,000; the new primary keys, in the order of `rows`."""
    ids: list[Any] = []
    key = model.__mapper__.primary_key[0]
    statement = insert(model).returning(key, sort_by_parameter_order=True)
    for chunk in chunks(rows, 1000):
        ids += db.session.scalars(statement, chunk).all()
    return ids


def _set_by_id(model: type, rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key, 1,000 rows at a time."""
    for chunk in chunks(rows, 1000):
        db.session.execute(update(model), chunk)


def _child_row(pupil: Pupil) -> dict[str, Any]:
    return {
        "ref": pupil.ref,
        "family_name": pupil.family_name,
        "given_name": pupil.given_name,
        "birthdate": pupil.birthdate,
        "school_uai": pupil.school_uai,
        "class_level": pupil.class_level,
    }


def _account_row(credential: Credential, password_hash: str) -> dict[str, Any]:
    return {
        "identifier": credential.identifier,
        "parent_ref": credential.parent_ref,
        "family_name": credential.family_name,
        "given_name": credential.given_name,
        "password_hash": password_hash,
        "provisional_expires_at": credential.expires_at,
        "status": PROVISIONAL,
    }


def _audit(export: Export, created_ids: list[int], updated_ids: set[int], departed: int) -> None:
    """One event per account created or changed, and one for the import (never a password)."""
    now = utcnow()
    details = {"source": SOURCE, "file": export.name}
    events = [("account_created", account_id) for account_id in created_ids]
    events += [("account_updated", account_id) for account_id in sorted(updated_ids)]
    rows = [{"event": e, "account_id": a, "at": now, "details": details} for e, a in events]
    counts = {"created": len(created_ids), "updated": len(updated_ids), "rows": export.rows}
    counts["children_departed"] = departed
    summary = {"event": "families_imported", "account_id": None, "at": now}
    rows.append(summary | {"details": details | counts})
    for chunk in chunks(rows, 1000):
        db.session.execute(insert(AuditEvent), chunk)
