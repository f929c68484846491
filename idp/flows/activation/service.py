"""Activation, step by step: plain functions, each committing once (or not at all).

A provisional account becomes `pending_email` when the parent gives an address, a new password
and the right birth date of the child shown; `active` when the mailed link is followed. Every
state change is a conditional update on the account's status, so that two submits at once (two
browsers) apply once, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from idp import audit, mail
from idp.extensions import db
from idp.flows import links
from idp.models import Account, Child, Flow
from idp.models.accounts import (
    ACTIVE,
    LOCKED,
    LOCKED_BIRTHDATE,
    LOCKED_NOT_GUARDIAN,
    PENDING_EMAIL,
    PROVISIONAL,
)
from idp.models.flows import EMAIL_CONFIRMATION
from idp.passwords import hash_password, policy_problems

MAX_BIRTHDATE_FAILURES = 5

# Outcomes, for the views to pick a page.
PENDING = "pending"  # done: the mail is out (or could not be sent: mail_sent False)
INVALID = "invalid"  # field errors to show beside the fields
LOCKED_NOW = "locked"  # the fifth wrong birth date
ALREADY = "already"  # another window activated first
UNKNOWN_LINK = links.UNKNOWN
EXPIRED_LINK = links.EXPIRED
REPLACED_LINK = links.REPLACED
USED_LINK = links.USED
CONFIRMED = "confirmed"


@dataclass
class Result:
    outcome: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    mail_sent: bool = True
    account: Account | None = None


def child_to_confirm(account: Account) -> Child | None:
    """The child whose birth date the parent confirms: the first one the school linked."""
    children = account.children
    return children[0] if children else None


def _wrong_birthdate(account: Account, birthdate: date) -> bool:
    child = child_to_confirm(account)
    return child is None or birthdate != child.birthdate


def _move(account: Account, expected: str, **values) -> bool:
    """Change the account where its status is still `expected`; True if this call did."""
    result = db.session.execute(
        update(Account).where(Account.id == account.id, Account.status == expected).values(values)
    )
    return result.rowcount == 1


def _count_wrong_birthdate(account: Account) -> str | None:
    """One more failure; the fifth locks the account. Returns LOCKED_NOW when it does."""
    _move(account, PROVISIONAL, activation_failures=Account.activation_failures + 1)
    db.session.refresh(account)
    audit.record("activation_birthdate_wrong", account, commit=False)
    if account.activation_failures < MAX_BIRTHDATE_FAILURES:
        return None
    if _move(account, PROVISIONAL, status=LOCKED, locked_reason=LOCKED_BIRTHDATE):
        audit.record("account_locked", account, commit=False, reason=LOCKED_BIRTHDATE)
    return LOCKED_NOW


def activate(
    account: Account,
    email: str | None,
    password: str | None,
    birthdate: date | None,
    form_valid: bool = True,
) -> Result:
    """Check everything in one submit; on success the new password holds at once and the mail
    goes. The form checked syntax (``form_valid``): the password rules and the birth date are
    checked here all the same, so that every error shows at once and a wrong date counts."""
    if account.status != PROVISIONAL:
        return Result(ALREADY, account=account)
    errors: dict[str, list[str]] = {}
    personal = [account.identifier, account.given_name, account.family_name]
    problems = policy_problems(password, personal, account.password_hash) if password else []
    if problems:
        errors["new_password"] = problems
    if birthdate is not None and _wrong_birthdate(account, birthdate):
        errors["child_birthdate"] = [_("Cette date ne correspond pas à celle que l'école connaît.")]
        if _count_wrong_birthdate(account) == LOCKED_NOW:
            db.session.commit()
            return Result(LOCKED_NOW, account=account)
        remaining = MAX_BIRTHDATE_FAILURES - account.activation_failures
        errors["child_birthdate"].append(_("Essais restants : %(n)d.", n=remaining))
    if errors or not form_valid or not (email and password and birthdate):
        db.session.commit()  # the failure count, if any
        return Result(INVALID, errors=errors, account=account)
    applied = _move(
        account,
        PROVISIONAL,
        password_hash=hash_password(password),
        email=email.strip(),
        email_verified=False,
        status=PENDING_EMAIL,
        activation_failures=0,
        provisional_expires_at=None,
    )
    if not applied:
        db.session.rollback()
        return Result(ALREADY, account=account)
    db.session.refresh(account)
    flow, token = _new_link(account)
    audit.record("activation_submitted", account, commit=False, email=mail.mask(account.email))
    db.session.commit()
    return Result(PENDING, mail_sent=_send_link(account, flow, token), account=account)


def _new_link(account: Account) -> tuple[Flow, str]:
    ttl = current_app.config["ACTIVATION_LINK_TTL"]
    return links.create(EMAIL_CONFIRMATION, account, account.email, ttl)


def link_was_mailed(account: Account) -> bool:
    return links.was_mailed(account, EMAIL_CONFIRMATION)


def _send_link(account: Account, flow: Flow, token: str) -> bool:
    try:
        mail.send(
            account.email,
            "activation",
            subject=_("Confirmez votre adresse électronique"),
            account=account,
            link=mail.provider_url("activation.confirm", token=token),
            hours=current_app.config["ACTIVATION_LINK_TTL"] // 3600,
        )
    except mail.MailError:
        return False
    audit.record("activation_mail_sent", account, commit=False, email=mail.mask(account.email))
    links.mark_mailed(flow)
    return True


def resend(account: Account, email: str | None = None) -> Result:
    """A new link (the older ones stop working), to the same or a corrected address."""
    if account.status != PENDING_EMAIL:
        return Result(ALREADY, account=account)
    if email is not None and email.strip().casefold() != (account.email or "").casefold():
        if not _move(account, PENDING_EMAIL, email=email.strip()):
            db.session.rollback()
            return Result(ALREADY, account=account)
        db.session.refresh(account)
        audit.record("activation_email_changed", account, commit=False, email=mail.mask(email))
    flow, token = _new_link(account)
    db.session.commit()
    return Result(PENDING, mail_sent=_send_link(account, flow, token), account=account)


def confirm(token: str) -> Result:
    """Follow the mailed link: the account becomes active, once."""
    flow, problem = links.check(token, EMAIL_CONFIRMATION)
    if problem is not None:
        return Result(problem, account=flow.account if flow else None)
    account = flow.account
    if not links.use(flow):
        db.session.rollback()
        return Result(USED_LINK, account=account)
    if not _move(account, PENDING_EMAIL, status=ACTIVE, email_verified=True):
        db.session.rollback()
        return Result(USED_LINK, account=account)
    audit.record("activation_confirmed", account, commit=False, email=mail.mask(flow.email))
    db.session.commit()
    db.session.refresh(account)
    return Result(CONFIRMED, account=account)


def report_not_guardian(account: Account) -> bool:
    """ "Je ne suis pas le représentant légal de cet enfant": the activation stops there and
    the school is told (status locked, the reason for `idp accounts show` and the audit)."""
    child = child_to_confirm(account)
    if not _move(account, PROVISIONAL, status=LOCKED, locked_reason=LOCKED_NOT_GUARDIAN):
        db.session.rollback()
        return False
    audit.record(
        "activation_not_guardian_reported",
        account,
        commit=False,
        child_ref=child.ref if child else None,
    )
    db.session.commit()
    return True
