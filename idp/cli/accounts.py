"""`idp accounts …`: the school's and help desk's account commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from idp.cli import emit, json_option, with_app
from idp.cli.files import staged, writable
from idp.provisioning import accounts, helpdesk
from idp.provisioning.letters import Letter, render, short_date


@click.group("accounts")
def group() -> None:
    """Parent accounts."""


@group.command("create")
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option(
    "--child",
    "children",
    multiple=True,
    required=True,
    metavar='"GIVEN;FAMILY;YYYY-MM-DD;SCHOOL_UAI;CLASS[;SCHOOL_NAME]"',
)
@json_option
@with_app
def create(
    app: Flask, given_name: str, family_name: str, children: tuple[str, ...], as_json: bool
) -> None:
    """One provisional parent account with its children."""
    specs = [accounts.parse_child(spec) for spec in children]
    account, password = accounts.create_account(given_name, family_name, specs)
    document = {
        "identifier": account.identifier,
        "provisional_password": password,
        "provisional_password_expires_at": account.provisional_expires_at.isoformat(),
        "children": [accounts.describe_child(child) for child in account.children],
    }
    names = ", ".join(f"{c.given_name} {c.family_name} ({c.ref})" for c in account.children)
    text = f"identifier: {account.identifier}\nprovisional password: {password}\nchildren: {names}"
    emit(as_json, document, text)


@group.command("show")
@click.argument("identifier")
@json_option
@with_app
def show(app: Flask, identifier: str, as_json: bool) -> None:
    """What the help desk needs to know about an account."""
    account = accounts.find_account(identifier)
    document = accounts.describe_account(account)
    lines = [f"name: {account.name}"]
    lines += [f"{key}: {value}" for key, value in document.items() if key != "children"]
    lines += helpdesk.help_desk_notes(account)
    lines += [
        f"child: {c['given_name']} {c['family_name']} ({c['ref']}), {c['class_level']}, "
        f"{c['school']['name']} ({c['school']['uai']})"
        for c in document["children"]
    ]
    emit(as_json, document, "\n".join(lines))


@group.command("reset")
@click.argument("identifier")
@click.option(
    "--letter",
    "letter_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the new letter (PDF).",
)
@json_option
@with_app
def reset(app: Flask, identifier: str, letter_path: Path | None, as_json: bool) -> None:
    """The help desk: back to provisional with a new password, unlocked, signed out everywhere."""
    writable(letter_path)
    account = accounts.find_account(identifier)
    with staged() as staging:

        def deliver(letter: Letter) -> None:
            if letter_path:
                staging.write(letter_path, render([letter]))

        password = helpdesk.reset_account(account, deliver)
    document = {"identifier": account.identifier, "provisional_password": password}
    expiry = short_date(account.provisional_expires_at)
    text = f"identifier: {account.identifier}\nprovisional password: {password} (until {expiry})"
    if letter_path:
        text += f"\nletter: {letter_path}"
    emit(as_json, document, text)
