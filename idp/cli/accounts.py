"""`idp accounts …`: the school's and help desk's account commands."""

from __future__ import annotations

import click
from flask import Flask

from idp.cli import emit, json_option, with_app
from idp.provisioning import accounts


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
    lines += [
        f"child: {c['given_name']} {c['family_name']} ({c['ref']}), {c['class_level']}, "
        f"{c['school']['name']} ({c['school']['uai']})"
        for c in document["children"]
    ]
    emit(as_json, document, "\n".join(lines))
