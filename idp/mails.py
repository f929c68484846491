"""What each mail says and to whom: one function per mail, each queueing it in the outbox.

The words are in ``templates/mail/``. Each function renders the mail now, in the locale of the
request, and adds it to the outbox (``idp.mail.queue``) in the caller's transaction: call it
before the commit of the change the mail announces, so that both are kept or neither. A sender
hands it to the SMTP server later, retrying while the server is away (``idp.outbox``); what it
records once the mail has left (``sent_event``, the link's ``mailed_at``) is given here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from babel.dates import format_date
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from idp import mail
from idp.models import Account, Flow, OutboxItem, Staff


def _send(to: str, template: str, subject: object, **context: Any) -> OutboxItem:
    return mail.queue(to, template, subject, **context)


def activation_link(account: Account, flow: Flow, token: str) -> OutboxItem:
    """The activation's confirmation link, to the address the parent gave."""
    return _send(
        account.email,
        "activation",
        subject=_l("Confirmez votre adresse électronique"),
        account_id=account.id,
        sent_event="activation_mail_sent",
        flow_id=flow.id,
        account=account,
        link=mail.provider_url("activation.confirm", token=token),
        hours=current_app.config["ACTIVATION_LINK_TTL"] // 3600,
    )


def email_change_link(account: Account, email: str, flow: Flow, token: str) -> OutboxItem:
    """To the new address: the link that makes it the account's."""
    return _send(
        email,
        "account_email_change",
        subject=_l("Confirmez votre nouvelle adresse électronique"),
        account_id=account.id,
        sent_event="email_change_mail_sent",
        flow_id=flow.id,
        account=account,
        link=mail.provider_url("account.confirm_email", token=token),
        hours=current_app.config["ACTIVATION_LINK_TTL"] // 3600,
    )


def email_change_notice(account: Account, email: str) -> OutboxItem:
    """To the address in effect: no link, only what happened and what to do if the parent
    did not ask for it."""
    return _send(
        account.email,
        "account_email_change_notice",
        subject=_l("Demande de changement d'adresse électronique"),
        account_id=account.id,
        account=account,
        new_email=mail.mask(email),
    )


def password_changed_notice(account: Account) -> OutboxItem:
    """After a change of password from "Gérer mon compte"."""
    return _send(
        account.email,
        "account_password_changed",
        subject=_l("Votre mot de passe a été modifié"),
        account_id=account.id,
        account=account,
    )


def password_reset_link(account: Account, flow: Flow, token: str) -> OutboxItem:
    """ "Mot de passe oublié": the single-use link to choose a new one."""
    return _send(
        account.email,
        "password_reset",
        subject=_l("Choisissez un nouveau mot de passe"),
        account_id=account.id,
        sent_event="password_reset_mail_sent",
        flow_id=flow.id,
        account=account,
        link=mail.provider_url("recovery.reset_password", token=token),
        minutes=current_app.config["RESET_LINK_TTL"] // 60,
    )


def password_reset_notice(account: Account) -> OutboxItem:
    """After a reset by the mailed link."""
    return _send(
        account.email,
        "password_changed",
        subject=_l("Votre mot de passe a été modifié"),
        account_id=account.id,
        sent_event="password_changed_notice",
        sent_details={"outcome": "mail_sent"},
        account=account,
    )


def identifier_reminder(email: str, accounts: Sequence[Account]) -> OutboxItem:
    """ "Identifiant oublié": every identifier using the address, and a link to sign in."""
    return _send(
        email,
        "identifier_reminder",
        subject=_l("Votre identifiant de compte parent"),
        account_id=accounts[0].id,
        sent_event="identifier_reminder_mail_sent",
        accounts=accounts,
        login_link=mail.provider_url("login.login"),
    )


def inactivity_warning(account: Account, disabled_on: datetime) -> OutboxItem:
    """Retention: the account will be disabled on ``disabled_on`` unless the parent signs in."""
    return _send(
        account.email,
        "inactivity_warning",
        subject=_l("Votre compte parent sera bientôt désactivé"),
        account_id=account.id,
        sent_event="inactivity_warning_mail_sent",
        account=account,
        day=format_date(disabled_on, "d MMMM y", locale=account.locale or get_locale()),
        login_link=mail.provider_url("login.login"),
    )


def staff_enrolment_link(staff: Staff, token: str) -> OutboxItem:
    """To a new director or deputy: the link that opens their access to the school console
    (queued with the invitation; its receipt is the audit's `staff_enrolment_mail_sent`)."""
    return mail.queue(
        staff.email,
        "staff_enrolment",
        subject=_l("Votre accès à la console de l'école"),
        sent_event="staff_enrolment_mail_sent",
        sent_details={"staff_id": staff.id},
        staff=staff,
        link=mail.provider_url("console.enrol", token=token),
        days=max(1, current_app.config["STAFF_ENROLMENT_TTL"] // 86400),
    )
