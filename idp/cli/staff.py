"""`idp staff add`: a school staff account for the school console (contract §2)."""

from __future__ import annotations

import logging

import click
from flask import Flask

from idp.cli import emit, json_option, with_app
from idp.console import staff as staff_service
from idp.provisioning.accounts import ProvisioningError


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
    # The mail is rendered as a page would be: links on the issuer's address, in French. A
    # failed delivery is said below in the command's one line, not logged a second time.
    logging.getLogger("idp.mail").setLevel(logging.CRITICAL)
    with app.test_request_context("/", base_url=app.config["ISSUER"]):
        invitation = staff_service.add_staff(email, given_name, family_name, list(schools))
    staff = invitation.staff
    if not invitation.mail_sent:
        raise ProvisioningError(
            f"staff {staff.email} added but the enrolment mail could not be sent; "
            "run the same command again to send a new link"
        )
    document = {"staff_id": staff.id, "email": staff.email, "schools": staff.uais}
    text = (
        f"staff {staff.id}: {staff.email}, schools {', '.join(staff.uais)}; enrolment link mailed"
    )
    emit(as_json, document, text)
