"""Reading a school export (docs/contract.md §5): every problem found, or families ready to import.

The file is read whole and checked whole before anything touches the database: a file with any
bad row is refused with the list of every bad row (line, column, reason), the header being line 1.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from idp.provisioning.accounts import UAI, ProvisioningError, parse_date

COLUMNS = (
    "parent_ref",
    "parent_family_name",
    "parent_given_name",
    "child_ref",
    "child_family_name",
    "child_given_name",
    "child_birthdate",
    "school_uai",
    "school_name",
    "class_level",
)
# The widths of the database columns each field goes to.
MAX_LENGTHS = {
    "parent_ref": 64,
    "parent_family_name": 128,
    "parent_given_name": 128,
    "child_ref": 64,
    "child_family_name": 128,
    "child_given_name": 128,
    "child_birthdate": 10,
    "school_uai": 8,
    "school_name": 255,
    "class_level": 32,
}
SEPARATORS = (";", ",")
SPACES = re.compile(r"\s+")
# Control characters (category Cc), and the invisible ones that could disguise a name on a
# letter: zero-width characters, bidirectional overrides, a stray byte-order mark.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# A value starting so would run as a formula when the credentials file is opened in a spreadsheet.
FORMULA = frozenset("=+-@")


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused; `column` is None when the whole line is at fault."""

    line: int
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


class ExportRejected(ProvisioningError):
    """The file can't be imported; `problems` lists every bad row."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = sorted(problems, key=lambda problem: problem.line)
        bad_rows = len({problem.line for problem in problems})
        noun = "bad row" if bad_rows == 1 else "bad rows"
        super().__init__(f"{bad_rows} {noun} in {name}, nothing imported")


@dataclass(frozen=True)
class Parent:
    ref: str
    family_name: str
    given_name: str


@dataclass(frozen=True)
class Pupil:
    ref: str
    family_name: str
    given_name: str
    birthdate: date
    school_uai: str
    class_level: str


@dataclass
class Export:
    """A checked export: each parent, child and school once, and the links in file order."""

    name: str
    rows: int = 0
    parents: dict[str, Parent] = field(default_factory=dict)
    children: dict[str, Pupil] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)
    # child_ref → its parents' refs, and parent_ref → its children's refs, in file order.
    parents_of: dict[str, list[str]] = field(default_factory=dict)
    children_of: dict[str, list[str]] = field(default_factory=dict)
    # Where each parent, child and school was first seen, to point at conflicting rows.
    first_lines: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """How the file is laid out: its separator, where each column is, how many columns."""

    separator: str
    positions: dict[str, int]
    width: int


def read_export(data: bytes, name: str) -> Export:
    """Check a whole file; ExportRejected with every problem, or the families it holds."""
    text = _decode(data, name)
    header_line = text.splitlines()[0] if text.strip() else ""
    separator = _separator(header_line, name)
    records = _records(text, separator, name)
    _, header = next(records, (1, []))
    layout = Layout(separator, _columns(header, name), len(header))
    export = Export(name=name)
    problems: list[Problem] = []
    for line, record in records:
        if not any(value.strip() for value in record):
            continue  # blank lines, and the empty rows spreadsheets leave at the end
        export.rows += 1
        problems += _check_record(export, line, record, layout)
    if not export.rows and not problems:
        problems.append(Problem(1, None, "no rows after the header"))
    if problems:
        raise ExportRejected(name, problems)
    return export


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        reason = f"not UTF-8 (byte 0x{data[error.start]:02x}): save the export as CSV UTF-8"
        raise ExportRejected(name, [Problem(line, None, reason)]) from None


def _separator(header_line: str, name: str) -> str:
    """The header's separator: semicolon or comma, whichever it uses."""
    counts = {separator: header_line.count(separator) for separator in SEPARATORS}
    separator = max(SEPARATORS, key=lambda candidate: counts[candidate])
    if counts[separator] == 0:
        reason = "unknown separator in the header: comma or semicolon expected"
        raise ExportRejected(name, [Problem(1, None, reason)])
    return separator


def _records(text: str, separator: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    end = 0
    try:
        for record in reader:
            yield end + 1, record
            end = reader.line_num
    except csv.Error as error:
        raise ExportRejected(name, [Problem(end + 1, None, f"unreadable CSV: {error}")]) from None


def _columns(header: list[str], name: str) -> dict[str, int]:
    """Where each contract column is; extra columns are ignored, a missing one refused."""
    positions: dict[str, int] = {}
    problems = []
    for index, raw in enumerate(header):
        column = raw.strip().lower()
        if column in positions:
            problems.append(Problem(1, column, "column given twice"))
        positions.setdefault(column, index)
    problems += [
        Problem(1, column, "missing column") for column in COLUMNS if column not in positions
    ]
    if problems:
        raise ExportRejected(name, problems)
    return positions


def _check_record(export: Export, line: int, record: list[str], layout: Layout) -> list[Problem]:
    if len(record) != layout.width:
        return [Problem(line, None, _width_reason(record, layout.width, layout.separator))]
    values: dict[str, Any] = {}
    problems = []
    for column in COLUMNS:
        value, reason = _field(column, record[layout.positions[column]])
        values[column] = value
        if reason:
            problems.append(Problem(line, column, reason))
    if problems:
        return problems
    return _add(export, line, values)


def _width_reason(record: list[str], width: int, separator: str) -> str:
    other = SEPARATORS[1 - SEPARATORS.index(separator)]
    joined = separator.join(record)
    if len(record) < width and joined.count(other) >= width - 1:
        return f"unknown separator: {other!r} where the header uses {separator!r}"
    return f"{len(record)} fields instead of {width}"


def _field(column: str, raw: str) -> tuple[Any, str | None]:
    """The field's value, normalised, and what is wrong with it (None when it is fine)."""
    value = SPACES.sub(" ", unicodedata.normalize("NFC", raw)).strip()
    if not value:
        return value, "missing field"
    if CONTROL.search(value):
        return value, "control or invisible character"
    if value[0] in FORMULA:
        return value, f"starts with {value[0]!r}: spreadsheets would read a formula"
    if len(value) > MAX_LENGTHS[column]:
        return value, f"longer than {MAX_LENGTHS[column]} characters"
    if column == "school_uai":
        value = value.upper()
        if not UAI.match(value):
            return value, f"bad UAI {value!r}: 7 digits and a letter expected"
    if column == "child_birthdate":
        return _birthdate(value)
    return value, None


def _birthdate(value: str) -> tuple[Any, str | None]:
    try:
        born = parse_date(value)
    except ProvisioningError as error:
        return value, str(error)
    if born > date.today() or born.year < 1900:
        return value, f"bad date {value!r}: not a pupil's birth date"
    return born, None


def _add(export: Export, line: int, values: dict[str, Any]) -> list[Problem]:
    """Record the row's parent, child, school and link; a ref seen before must agree."""
    parent = Parent(*(values[c] for c in ("parent_ref", "parent_family_name", "parent_given_name")))
    pupil = Pupil(
        values["child_ref"],
        values["child_family_name"],
        values["child_given_name"],
        values["child_birthdate"],
        values["school_uai"],
        values["class_level"],
    )
    problems = _conflicts(export, line, "parent", parent, export.parents)
    problems += _conflicts(export, line, "child", pupil, export.children)
    known_name = export.schools.setdefault(pupil.school_uai, values["school_name"])
    if known_name != values["school_name"]:
        seen = export.first_lines[("school", pupil.school_uai)]
        reason = f"school {pupil.school_uai} is named {known_name!r} on line {seen}"
        problems.append(Problem(line, "school_name", reason))
    export.first_lines.setdefault(("school", pupil.school_uai), line)
    if not problems:
        _link(export.parents_of.setdefault(pupil.ref, []), parent.ref)
        _link(export.children_of.setdefault(parent.ref, []), pupil.ref)
    return problems


def _link(refs: list[str], ref: str) -> None:
    if ref not in refs:
        refs.append(ref)


# The file's column for each field of a parent or child, to name it in a conflict.
FIELD_COLUMNS = {
    "parent": {"family_name": "parent_family_name", "given_name": "parent_given_name"},
    "child": {
        "family_name": "child_family_name",
        "given_name": "child_given_name",
        "birthdate": "child_birthdate",
        "school_uai": "school_uai",
        "class_level": "class_level",
    },
}


def _conflicts(
    export: Export, line: int, kind: str, item: Parent | Pupil, known: dict[str, Any]
) -> list[Problem]:
    """The same ref given before with other data: one problem per differing column."""
    first = known.setdefault(item.ref, item)
    export.first_lines.setdefault((kind, item.ref), line)
    if first == item:
        return []
    seen = export.first_lines[(kind, item.ref)]
    problems = []
    for attribute, column in FIELD_COLUMNS[kind].items():
        before = getattr(first, attribute)
        if before != getattr(item, attribute):
            shown = before.strftime("%d/%m/%Y") if isinstance(before, date) else before
            reason = f"duplicate {kind} {item.ref} with conflicting data: {shown!r} on line {seen}"
            problems.append(Problem(line, column, reason))
    return problems
