"""Issue 13, retention: `idp purge` deletes what has expired past its grace, keeps what is
young, applies the account rules, and counts everything without a name (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import func, select

from idp import retention
from idp.extensions import db
from idp.models import (
    Account,
    AuditEvent,
    AuthorizationCode,
    Child,
    Flow,
    InitialAccessToken,
    Interaction,
    Link,
    LoginSession,
    Token,
)
from idp.models.accounts import ACTIVE, DISABLED, PROVISIONAL
from idp.models.base import utcnow
from tests.mailbox import wait_for_outbox
from tests.oidc_client import OIDCClient

DAY = timedelta(days=1)
YEAR = timedelta(days=365)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def old_and_young_rows(account: Account, client_id: str) -> None:
    """One row of every purgeable kind past its grace, and one still young."""
    now, epoch = utcnow(), int(time.time())
    for age in (3 * DAY, timedelta(0)):  # 3 days: past the 1-day grace
        then, then_epoch = now - age, epoch - int(age.total_seconds())
        db.session.add_all(
            [
                AuthorizationCode(
                    code=f"code-{then_epoch}",
                    client_id=client_id,
                    redirect_uri="https://lsu.example.org/callback",
                    scope="openid",
                    account_id=account.id,
                    auth_time=then_epoch,
                    expires_at=then_epoch + 60,
                ),
                Token(
                    client_id=client_id,
                    account_id=account.id,
                    family=f"f-{then_epoch}",
                    token_type="Bearer",
                    access_token=f"access-{then_epoch}",
                    scope="openid",
                    issued_at=then_epoch - 3600,
                    expires_in=3600,
                ),
                LoginSession(
                    token_hash=f"session-{then_epoch}",
                    account_id=account.id,
                    auth_time=then,
                    last_seen_at=then,
                    ended_at=then,
                ),
                Interaction(
                    query="client_id=x",
                    browser_id="b",
                    client_id=client_id,
                    expires_at=then,
                ),
                Flow(
                    kind="password_reset",
                    account_id=account.id,
                    token_hash=f"link-{then_epoch}",
                    expires_at=then,
                ),
                InitialAccessToken(token_hash=f"iat-{then_epoch}", expires_at=then_epoch),
            ]
        )
    db.session.add(AuditEvent(event="login", account_id=account.id, at=now - 2 * YEAR))
    db.session.add(AuditEvent(event="login", account_id=account.id, at=now - DAY))
    db.session.commit()


def test_purge_deletes_what_expired_past_its_grace_and_keeps_the_rest(app, factory):
    account, _ = factory.account()
    client, _ = factory.client()
    old_and_young_rows(account, client.client_id)

    counts = retention.purge()

    for name in ("codes", "tokens", "sessions", "pending_requests", "mailed_links"):
        assert counts[name] == 1, name
    assert counts["registration_tokens"] == 1 and counts["audit_events"] == 1
    for model in (AuthorizationCode, Token, LoginSession, Interaction, Flow, InitialAccessToken):
        assert count(model) == 1, model.__name__  # the young one stays
    assert count(AuditEvent, AuditEvent.event == "login") == 1
    (purged,) = db.session.scalars(select(AuditEvent).filter_by(event="purged")).all()
    assert purged.details == counts  # counted in the audit, with no name in it
    assert account.identifier not in json.dumps(purged.details)


def test_a_rotated_refresh_token_stays_until_its_own_expiry(app, factory):
    """Its reuse must still be caught (and revoke the family) after the access token expired."""
    account, _ = factory.account()
    client, _ = factory.client()
    old = int(time.time()) - 3 * 86400
    db.session.add(
        Token(
            client_id=client.client_id,
            account_id=account.id,
            family="f",
            token_type="Bearer",
            access_token="a",
            refresh_token="r",
            refresh_token_revoked_at=old,
            refresh_expires_at=int(time.time()) + 86400,
            scope="openid",
            issued_at=old,
            expires_in=3600,
        )
    )
    db.session.commit()
    assert retention.purge()["tokens"] == 0
    assert count(Token) == 1


def test_never_activated_accounts_go_a_year_after_their_letter_once_their_children_left(
    app, factory
):
    gone, _ = factory.account(status=PROVISIONAL, email=None, given_name="Parti")
    still_linked, _ = factory.account(status=PROVISIONAL, email=None, given_name="Reste")
    recent, _ = factory.account(status=PROVISIONAL, email=None, given_name="Récent")
    for account in (gone, still_linked):
        account.provisional_expires_at = utcnow() - YEAR - DAY
    recent.provisional_expires_at = utcnow() - DAY
    gone_children = [link.child_id for link in gone.links]
    db.session.execute(db.delete(Link).where(Link.account_id == gone.id))  # left the school
    db.session.commit()
    gone_id, kept_ids = gone.id, [still_linked.id, recent.id]

    counts = retention.purge()

    assert counts["accounts_never_activated"] == 1
    assert count(Account, Account.id == gone_id) == 0
    assert count(Account, Account.id.in_(kept_ids)) == 2
    assert counts["children_unlinked"] == len(gone_children)  # linked to nobody any more
    assert count(Child, Child.id.in_(gone_children)) == 0


def test_an_unused_account_is_warned_then_disabled_unless_the_parent_comes_back(
    app, factory, mailbox
):
    unused, _ = factory.account(given_name="Absente", email="absente@example.org")
    back, password = factory.account(given_name="Revenue", email="revenue@example.org")
    fresh, _ = factory.account(given_name="Active", email="active@example.org")
    for account in (unused, back):
        account.last_login_at = utcnow() - 3 * YEAR - DAY
    fresh.last_login_at = utcnow() - DAY
    db.session.commit()

    counts = retention.purge()
    assert counts["accounts_warned"] == 2 and counts["accounts_disabled"] == 0
    wait_for_outbox()  # the warnings were queued with the accounts' marks; the sender sends
    assert {m["To"] for m in mailbox.messages} == {"absente@example.org", "revenue@example.org"}
    assert "absente" in mailbox.last_to("absente@example.org").get_body().get_content().lower()

    # One of the two signs in; 31 days later the other is disabled, and nothing is sent twice.
    OIDCClient(app.test_client(), "", None, "").sign_in(back.identifier, password)
    later = utcnow() + timedelta(days=31)
    counts = retention.purge(now=later)
    assert counts["accounts_warned"] == 0 and counts["accounts_disabled"] == 1
    db.session.expire_all()
    assert db.session.get(Account, unused.id).status == DISABLED
    assert db.session.get(Account, back.id).status == ACTIVE
    assert db.session.get(Account, back.id).inactivity_warned_at is None
    assert db.session.get(Account, fresh.id).status == ACTIVE
    wait_for_outbox()
    assert len(mailbox.messages) == 2
