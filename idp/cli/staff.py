"""`idp staff add`: a school staff account for the school console (contract §2)."""

from __future__ import annotations

import logging

import click
from flask import Flask

from idp import outbox
from idp.cli import emit, json_option, with_app
from idp.console import staff as staff_service
from idp.extensions import db
from idp.models.outbox import SENT, OutboxItem


@click.group("staff")
def group() -> None:
    """School staff (directors, deputies) of the school console."""


@group.command("add")
@click.option("--email", required=True)
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--school", "schools", multiple=True, required=True, metavar="UAI")
@json_option
@with_app
def add(
    app: Flask,
    email: str,
    given_name: str,
    family_name: str,
    schools: tuple[str, ...],
    as_json: bool,
) -> None:
    """A director of those schools; mails the enrolment link (password, then authenticator)."""
    # The mail is rendered as a page would be: links on the issuer's address, in French. It is
    # queued with the invitation, then handed over at once; if the mail server does not answer,
    # it stays queued and `idp serve` or `idp worker` sends it later (said once, on stderr).
    logging.getLogger("idp.mail").setLevel(logging.CRITICAL)
    logging.getLogger("idp.outbox").setLevel(logging.CRITICAL)
    with app.test_request_context("/", base_url=app.config["ISSUER"]):
        invitation = staff_service.add_staff(email, given_name, family_name, list(schools))
        outbox.drain()
    staff = invitation.staff
    mailed = db.session.get(OutboxItem, invitation.mail_id).state == SENT
    if not mailed:
        click.echo(
            f"idp: warning: the mail server did not answer: the enrolment mail to {staff.email} "
            "is queued and leaves with `idp serve` or `idp worker`",
            err=True,
        )
    document = {"staff_id": staff.id, "email": staff.email, "schools": staff.uais}
    state = "enrolment link mailed" if mailed else "enrolment mail queued"
    text = f"staff {staff.id}: {staff.email}, schools {', '.join(staff.uais)}; {state}"
    emit(as_json, document, text)
