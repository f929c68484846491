"""Activation, step by step: plain functions, each committing once (or not at all).

A provisional account becomes `pending_email` when the parent gives an address, a new password
and the right birth date of the child shown; `active` when the mailed link is followed. The
status changes are the lifecycle's (idp.accounts.lifecycle): conditional updates, so that two
submits at once (two browsers) apply once.
"""

from __future__ import annotations

from datetime import date

from idp import mails
from idp.accounts import events, lifecycle
from idp.flows import mailed_links
from idp.flows.outcome import Result
from idp.messages import message
from idp.models import Account, Child
from idp.models.accounts import PENDING_EMAIL, PROVISIONAL
from idp.models.flows import EMAIL_CONFIRMATION
from idp.passwords import hash_password, policy_problems

MAX_BIRTHDATE_FAILURES = lifecycle.MAX_BIRTHDATE_FAILURES

# Outcomes, for the views to pick a page (and the links' problems: mailed_links.UNKNOWN, …).
PENDING = "pending"  # done: the link is mailed (queued in the outbox)
INVALID = "invalid"  # field errors to show beside the fields
LOCKED_NOW = "locked"  # the fifth wrong birth date
ALREADY = "already"  # another window activated first
CONFIRMED = "confirmed"


def child_to_confirm(account: Account) -> Child | None:
    """The child whose birth date the parent confirms: the first one the school linked."""
    children = account.children
    return children[0] if children else None


def _wrong_birthdate(account: Account, birthdate: date) -> bool:
    child = child_to_confirm(account)
    return child is None or birthdate != child.birthdate


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
        if lifecycle.count_wrong_birthdate(account):
            events.commit()
            return Result(LOCKED_NOW, account=account)
        remaining = MAX_BIRTHDATE_FAILURES - account.activation_failures
        errors["child_birthdate"] = [
            message("activation.birthdate_wrong"),
            message("activation.tries_left", n=remaining),
        ]
    if errors or not form_valid or not (email and password and birthdate):
        events.commit()  # the failure count, if any
        return Result(INVALID, errors=errors, account=account)
    if not lifecycle.activate(account, email.strip(), hash_password(password)):
        events.rollback()
        return Result(ALREADY, account=account)
    return _send_new_link(account)


def _send_new_link(account: Account) -> Result:
    """A new confirmation link (older ones stop working) and its mail, committed together: the
    outbox sends the mail, retrying while the SMTP server is away."""
    flow, token = mailed_links.create(EMAIL_CONFIRMATION, account, account.email)
    mails.activation_link(account, flow, token)
    events.commit()
    return Result(PENDING, account=account)


def mail_state(account: Account) -> str:
    """``mailed_links.MAIL_SENT``, ``MAIL_QUEUED`` or ``MAIL_UNKNOWN`` for the live link."""
    return mailed_links.mail_state(account, EMAIL_CONFIRMATION)


def resend(account: Account, email: str | None = None) -> Result:
    """A new link (the older ones stop working), to the same or a corrected address."""
    if account.status != PENDING_EMAIL:
        return Result(ALREADY, account=account)
    corrected = email is not None and email.strip().casefold() != (account.email or "").casefold()
    if corrected and not lifecycle.correct_pending_email(account, email.strip()):
        events.rollback()
        return Result(ALREADY, account=account)
    return _send_new_link(account)


def confirm(token: str) -> Result:
    """Follow the mailed link: the account becomes active, once."""
    flow, problem = mailed_links.check(token, EMAIL_CONFIRMATION)
    if problem is not None:
        return Result(problem, account=flow.account if flow else None)
    account = flow.account
    if not mailed_links.use(flow) or not lifecycle.confirm_email(account, flow.email):
        events.rollback()
        return Result(mailed_links.USED, account=account)
    events.commit()
    return Result(CONFIRMED, account=account)


def report_not_guardian(account: Account) -> bool:
    """ "Je ne suis pas le représentant légal de cet enfant": the activation stops there and
    the school is told (status locked, the reason for `idp accounts show` and the audit)."""
    child = child_to_confirm(account)
    if not lifecycle.report_not_guardian(account, child.ref if child else None):
        events.rollback()
        return False
    events.commit()
    return True
