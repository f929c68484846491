"""Changing the password and the email address of an active account: plain functions, each
committing once (or not at all), the mails sent after the commit.

A new address holds only once the link mailed to it is followed: until then the old one stays in
effect, and it is told of the request. Two clicks on the link apply once (a conditional update).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from idp import audit, mail
from idp.extensions import db
from idp.flows import links
from idp.flows.account.access import end_sessions
from idp.models import Account, Flow
from idp.models.accounts import ACTIVE
from idp.models.flows import CANCELLED, EMAIL_CHANGE, PASSWORD_RESET, SENT
from idp.oidc import tokens
from idp.passwords import check_password, hash_password, policy_problems

# Outcomes, for the views to pick a page.
DONE_NOW = "done"
PENDING = "pending"  # the confirmation link is out (mail_sent says whether it left)
INVALID = "invalid"  # field errors to show beside the fields
UNKNOWN_LINK = links.UNKNOWN
EXPIRED_LINK = links.EXPIRED
REPLACED_LINK = links.REPLACED
USED_LINK = links.USED
INACTIVE = "inactive"  # the account is no longer active (locked, disabled)


@dataclass
class Result:
    outcome: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    mail_sent: bool = True
    account: Account | None = None


def _password_problems(account: Account, current: str, new: str) -> dict[str, list[str]]:
    if not check_password(current, account.password_hash):
        return {"current_password": [_("Mot de passe actuel incorrect.")]}
    personal = [account.identifier, account.given_name, account.family_name]
    problems = policy_problems(new, personal, provisional_hash=None)
    if not problems and check_password(new, account.password_hash):
        problems = [_("Choisissez un mot de passe différent du mot de passe actuel.")]
    return {"new_password": problems} if problems else {}


def change_password(account: Account, current: str, new: str, keep_session: str) -> Result:
    """The current password proves it is the parent; the new one holds at once.

    Every other browser is signed out (`keep_session` is this one), every token of the account
    revoked and any pending address change or reset link cancelled, so that whoever knew the
    old password keeps nothing. A notice goes to the account's address.
    """
    errors = _password_problems(account, current, new)
    if errors:
        if "current_password" in errors:
            audit.record("password_change_refused", account, commit=False)
        db.session.commit()
        return Result(INVALID, errors=errors, account=account)
    changed = db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.password_hash == account.password_hash)
        .values(password_hash=hash_password(new))
    )
    if changed.rowcount != 1:  # changed meanwhile from another browser
        db.session.rollback()
        return Result(INVALID, {"current_password": [_("Mot de passe actuel incorrect.")]})
    ended = end_sessions(account, keep=keep_session)
    tokens.revoke_account(account.id)
    for kind in (EMAIL_CHANGE, PASSWORD_RESET):  # asked by whoever knew the old password, or moot
        links.cancel_all(account, kind)
    audit.record("password_changed", account, commit=False, sessions_ended=ended)
    db.session.commit()
    db.session.refresh(account)
    return Result(DONE_NOW, mail_sent=_notify_password_changed(account), account=account)


def _notify_password_changed(account: Account) -> bool:
    if not account.email:
        return False
    try:
        mail.send(
            account.email,
            "account_password_changed",
            subject=_("Votre mot de passe a été modifié"),
            account=account,
        )
    except mail.MailError:
        return False
    return True


def pending_email(account: Account) -> Flow | None:
    """The address awaiting confirmation, if a live link was sent for one."""
    flow = links.last_sent(account, EMAIL_CHANGE)
    if flow is None or flow.state != SENT or links.is_expired(flow):
        return None
    return flow


def request_email_change(account: Account, email: str) -> Result:
    """Mail a confirmation link to the new address and a notice to the current one."""
    email = email.strip()
    if email.casefold() == (account.email or "").casefold():
        return Result(INVALID, {"email": [_("C'est déjà l'adresse de votre compte.")]})
    ttl = current_app.config["ACTIVATION_LINK_TTL"]
    _flow, token = links.create(EMAIL_CHANGE, account, email, ttl)
    audit.record("email_change_requested", account, commit=False, email=mail.mask(email))
    db.session.commit()
    sent = _send_confirmation(account, email, token, ttl)
    if sent and account.email:
        _send_notice(account, email)
    return Result(PENDING, mail_sent=sent, account=account)


def _send_confirmation(account: Account, email: str, token: str, ttl: int) -> bool:
    try:
        mail.send(
            email,
            "account_email_change",
            subject=_("Confirmez votre nouvelle adresse électronique"),
            account=account,
            link=mail.provider_url("account.confirm_email", token=token),
            hours=ttl // 3600,
        )
    except mail.MailError:
        return False
    audit.record("email_change_mail_sent", account, email=mail.mask(email))
    return True


def _send_notice(account: Account, email: str) -> None:
    """To the address in effect: no link to act on, only what happened and what to do if the
    parent did not ask for it. A failure here does not stop the change."""
    try:
        mail.send(
            account.email,
            "account_email_change_notice",
            subject=_("Demande de changement d'adresse électronique"),
            account=account,
            new_email=mail.mask(email),
        )
    except mail.MailError:
        return


def confirm_email(token: str) -> Result:
    """Follow the link mailed to the new address: it becomes the account's, verified, once.

    Every other live link of the account (such as a password reset sent to the old address)
    is cancelled: the account changed.
    """
    flow, problem = links.check(token, EMAIL_CHANGE)
    if problem is not None:
        return Result(problem, account=flow.account if flow else None)
    account = flow.account
    old = account.email
    if not links.use(flow):
        db.session.rollback()
        return Result(USED_LINK, account=account)
    moved = db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.status == ACTIVE)
        .values(email=flow.email, email_verified=True)
    )
    if moved.rowcount != 1:
        db.session.rollback()
        return Result(INACTIVE, account=account)
    db.session.execute(
        update(Flow)
        .where(Flow.account_id == account.id, Flow.state == SENT)
        .values(state=CANCELLED)
    )
    details = {"old_email": mail.mask(old) if old else None, "email": mail.mask(flow.email)}
    audit.record("email_changed", account, commit=False, **details)
    db.session.commit()
    db.session.refresh(account)
    return Result(DONE_NOW, account=account)
