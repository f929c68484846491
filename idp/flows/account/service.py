"""Changing the password and the email address of an active account: plain functions, each
committing once (or not at all), the mails sent after the commit.

A new address holds only once the link mailed to it is followed: until then the old one stays in
effect, and it is told of the request. Two clicks on the link apply once (a conditional update).
"""

from __future__ import annotations

from idp import audit, mail, mails
from idp.accounts import events, lifecycle
from idp.flows import mailed_links
from idp.flows.outcome import Result
from idp.messages import message
from idp.models import Account, Flow
from idp.models.flows import EMAIL_CHANGE, SENT
from idp.passwords import check_password, hash_password, policy_problems

# Outcomes, for the views to pick a page (and the links' problems: mailed_links.UNKNOWN, …).
DONE_NOW = "done"
PENDING = "pending"  # the confirmation link is mailed (queued in the outbox)
INVALID = "invalid"  # field errors to show beside the fields
INACTIVE = "inactive"  # the account is no longer active (locked, disabled)


def _password_problems(account: Account, current: str, new: str) -> dict[str, list[str]]:
    if not check_password(current, account.password_hash):
        return {"current_password": [message("account.current_password_wrong")]}
    personal = [account.identifier, account.given_name, account.family_name]
    problems = policy_problems(new, personal, provisional_hash=None)
    if not problems and check_password(new, account.password_hash):
        problems = [message("account.password_unchanged")]
    return {"new_password": problems} if problems else {}


def change_password(account: Account, current: str, new: str, keep_session: str) -> Result:
    """The current password proves it is the parent; the new one holds at once.

    Every other browser is signed out (`keep_session` is this one), every token of the account
    revoked and any pending address change or reset link cancelled, so that whoever knew the
    old password keeps nothing. A notice goes to the account's address (a subscriber).
    """
    errors = _password_problems(account, current, new)
    if errors:
        if "current_password" in errors:
            audit.record("password_change_refused", account)
        return Result(INVALID, errors=errors, account=account)
    if lifecycle.change_password(account, hash_password(new), keep_session) is None:
        events.rollback()  # changed meanwhile from another browser
        return Result(INVALID, {"current_password": [message("account.current_password_wrong")]})
    events.commit()
    return Result(DONE_NOW, account=account)


def pending_email(account: Account) -> Flow | None:
    """The address awaiting confirmation, if a live link was sent for one."""
    flow = mailed_links.last_sent(account, EMAIL_CHANGE)
    if flow is None or flow.state != SENT or mailed_links.is_expired(flow):
        return None
    return flow


def request_email_change(account: Account, email: str) -> Result:
    """Mail a confirmation link to the new address and a notice to the current one; both are
    queued in the outbox with the link, in one transaction."""
    email = email.strip()
    if email.casefold() == (account.email or "").casefold():
        return Result(INVALID, {"email": [message("account.email_unchanged")]})
    flow, token = mailed_links.create(EMAIL_CHANGE, account, email)
    audit.record("email_change_requested", account, commit=False, email=mail.mask(email))
    mails.email_change_link(account, email, flow, token)
    if account.email:
        mails.email_change_notice(account, email)
    events.commit()
    return Result(PENDING, account=account)


def confirm_email(token: str) -> Result:
    """Follow the link mailed to the new address: it becomes the account's, verified, once.

    Every other live link of the account (such as a password reset sent to the old address)
    is cancelled: the account changed.
    """
    flow, problem = mailed_links.check(token, EMAIL_CHANGE)
    if problem is not None:
        return Result(problem, account=flow.account if flow else None)
    account = flow.account
    if not mailed_links.use(flow):
        events.rollback()
        return Result(mailed_links.USED, account=account)
    if not lifecycle.change_email(account, flow.email):
        events.rollback()
        return Result(INACTIVE, account=account)
    events.commit()
    return Result(DONE_NOW, account=account)
