"""`idp families import`: bulk provisioning from a school export (docs/contract.md §2, §5)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import Flask

from idp.cli import emit, json_option, with_app
from idp.cli.files import StderrProgress, staged, writable
from idp.provisioning.bulk_credentials import credentials_csv
from idp.provisioning.export import ExportRejected, read_export
from idp.provisioning.families import ImportResult, import_families
from idp.provisioning.letters import render

OUTPUT = click.Path(dir_okay=False, path_type=Path)
PLURALS = {"child": "children"}


@click.group("families")
def group() -> None:
    """Families from the schools' exports."""


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--letters", "letters_path", type=OUTPUT, help="Write one letter per new parent.")
@click.option("--credentials", "credentials_path", type=OUTPUT, help="Write a CSV of them.")
@json_option
@with_app
def import_(
    app: Flask,
    file: Path,
    letters_path: Path | None,
    credentials_path: Path | None,
    as_json: bool,
) -> None:
    """Create or update parents, children and links from a school export (CSV)."""
    started = time.monotonic()
    writable(letters_path)
    writable(credentials_path)
    try:
        export = read_export(file.read_bytes(), file.name)
    except ExportRejected as rejected:
        _refuse(rejected, as_json)
    progress = StderrProgress()
    with staged() as staging:

        def deliver(result: ImportResult) -> None:
            if credentials_path:
                staging.write(credentials_path, credentials_csv(result.created).encode())
            if letters_path:
                staging.write(letters_path, render(result.letters(), progress))

        result = import_families(export, deliver, progress)
    if result.created and not (letters_path or credentials_path or as_json):
        click.echo(
            f"idp: warning: the {len(result.created)} new provisional passwords were written "
            "nowhere (no --letters, --credentials or --json): `idp accounts reset` issues new ones",
            err=True,
        )
    emit(as_json, result.document(), _summary(result, letters_path, credentials_path, started))


def _refuse(rejected: ExportRejected, as_json: bool) -> None:
    """Exit 1: one line on stderr, then each problem (on stdout as JSON with --json)."""
    click.echo(f"idp: {rejected}", err=True)
    if as_json:
        errors = [problem.as_dict() for problem in rejected.problems]
        click.echo(json.dumps({"errors": errors}, ensure_ascii=False, indent=2))
    else:
        for problem in rejected.problems:
            click.echo(f"  {problem}", err=True)
    sys.exit(1)


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun if number == 1 else PLURALS.get(noun, noun + 's')}"


def _summary(
    result: ImportResult, letters: Path | None, credentials: Path | None, started: float
) -> str:
    export, created = result.export, len(result.created)
    sizes = [
        _counted(export.rows, "row"),
        _counted(len(export.parents), "parent"),
        _counted(len(export.children), "child"),
        _counted(len(export.schools), "school"),
    ]
    lines = [
        f"{export.name}: {', '.join(sizes)}",
        f"accounts: {created} created, {result.updated} updated, {result.unchanged} unchanged; "
        f"links: {result.links_added} added, {result.links_removed} removed",
    ]
    if result.children_departed:
        lines.append(
            f"left the school: {_counted(result.children_departed, 'link')} to children the "
            "file no longer lists removed (their teleservices lose them at the next sign-in)"
        )
    if letters:
        pages = _counted(created, "page") if created else "no new account to write to"
        lines.append(f"letters: {letters} ({pages})")
    if credentials:
        lines.append(f"credentials: {credentials} ({_counted(created, 'account')})")
    lines.append(f"done in {time.monotonic() - started:.1f} s")
    return "\n".join(lines)
