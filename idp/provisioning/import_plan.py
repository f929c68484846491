"""What an import of a school export will do, decided before it does anything.

A Plan sets the checked export beside what the database already holds of its schools, children,
parents and links (a few `IN (…)` queries per 500 refs), and derives every decision from the two:
what to create, what to update, which links to remove, which accounts change. It writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, Child, Link, School
from idp.provisioning.bulk_credentials import chunks
from idp.provisioning.export import Export, Parent, Pupil


class Known(NamedTuple):
    """A row already in the database, with the id the import needs to change or link it."""

    id: int
    item: Parent | Pupil


@dataclass
class Plan:
    """The export beside what the database already holds of it; every decision derives here."""

    export: Export
    school_names: dict[str, str]
    children: dict[str, Known]
    parents: dict[str, Known]
    links: list[tuple[int, int, int]]  # (link id, account id, child id) of the file's children
    # (link id, account id) of the links of children the file's schools no longer list: the
    # export is the school's whole roll, so a child missing from it has left the school.
    departed: list[tuple[int, int]]

    def new_children(self) -> list[Pupil]:
        return [c for ref, c in self.export.children.items() if ref not in self.children]

    def changed_children(self) -> list[tuple[int, Pupil]]:
        return [
            (self.children[ref].id, pupil)
            for ref, pupil in self.export.children.items()
            if ref in self.children and self.children[ref].item != pupil
        ]

    def new_parents(self) -> list[Parent]:
        return [p for ref, p in self.export.parents.items() if ref not in self.parents]

    def renamed_parents(self) -> list[tuple[int, Parent]]:
        return [
            (self.parents[ref].id, parent)
            for ref, parent in self.export.parents.items()
            if ref in self.parents and self.parents[ref].item != parent
        ]

    def renamed_schools(self) -> dict[str, str]:
        known = self.school_names
        return {u: n for u, n in self.export.schools.items() if u in known and known[u] != n}

    def stale_links(self) -> list[tuple[int, int]]:
        """(link id, account id) of links to parents the file no longer lists for the child."""
        ref_of = {known.id: ref for ref, known in self.children.items()}
        stale = []
        for link_id, account_id, child_id in self.links:
            listed = self.export.parents_of[ref_of[child_id]]
            if account_id not in {self.parents[p].id for p in listed if p in self.parents}:
                stale.append((link_id, account_id))
        return stale

    def new_links(self) -> list[tuple[str, str]]:
        """(parent ref, child ref) of the file's links not yet in the database, in file order."""
        existing = {(account_id, child_id) for _, account_id, child_id in self.links}
        new = []
        for parent_ref, child_refs in self.export.children_of.items():
            parent = self.parents.get(parent_ref)
            for child_ref in child_refs:
                child = self.children.get(child_ref)
                if parent is None or child is None or (parent.id, child.id) not in existing:
                    new.append((parent_ref, child_ref))
        return new

    def updated_accounts(self) -> set[int]:
        """Existing accounts the import changes: names, a link, a linked child or its school."""
        renamed_schools = self.renamed_schools()
        changed = {pupil.ref for _, pupil in self.changed_children()}
        changed |= {r for r, c in self.export.children.items() if c.school_uai in renamed_schools}
        touched = {parent_ref for parent_ref, _ in self.new_links()}
        touched |= {p for p, refs in self.export.children_of.items() if changed.intersection(refs)}
        updated = {self.parents[ref].id for ref in touched if ref in self.parents}
        updated |= {account_id for account_id, _ in self.renamed_parents()}
        updated |= {account_id for _, account_id in self.stale_links()}
        updated |= {account_id for _, account_id in self.departed}
        return updated

    def unchanged_accounts(self, updated: set[int]) -> int:
        """The file's parents that already had an account and keep it as it was."""
        return sum(1 for known in self.parents.values() if known.id not in updated)


def _rows_where(columns: tuple, key: Any, values: list) -> list:
    rows = []
    for chunk in chunks(values):
        rows += db.session.execute(select(*columns).where(key.in_(chunk))).all()
    return rows


def plan_import(export: Export) -> Plan:
    """Read what the database knows of the file's schools, children, parents and links."""
    schools = _rows_where((School.uai, School.name), School.uai, list(export.schools))
    child_columns = (Child.id, Child.ref, Child.family_name, Child.given_name, Child.birthdate)
    child_columns += (Child.school_uai, Child.class_level)
    children = {
        row.ref: Known(row.id, Pupil(*row[1:]))
        for row in _rows_where(child_columns, Child.ref, list(export.children))
    }
    parent_columns = (Account.id, Account.parent_ref, Account.family_name, Account.given_name)
    parents = {
        row.parent_ref: Known(row.id, Parent(*row[1:]))
        for row in _rows_where(parent_columns, Account.parent_ref, list(export.parents))
    }
    child_ids = [known.id for known in children.values()]
    links = _rows_where((Link.id, Link.account_id, Link.child_id), Link.child_id, child_ids)
    return Plan(
        export,
        dict(schools),
        children,
        parents,
        [tuple(link) for link in links],
        _departed_links(export),
    )


def _departed_links(export: Export) -> list[tuple[int, int]]:
    """The links of children of the file's schools that the file no longer lists."""
    rows = db.session.execute(
        select(Link.id, Link.account_id, Child.ref)
        .join(Child, Child.id == Link.child_id)
        .where(Child.school_uai.in_(list(export.schools)))
    ).all()
    return [
        (link_id, account_id) for link_id, account_id, ref in rows if ref not in export.children
    ]
