"""Issue 13, children's data: each teleservice gets only the claims of its scopes, never a birth
date; a child who left the school leaves the teleservices' claims; the parent sees what is
held and what was shared, and downloads all of it; the audit trail names nobody.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, AuditEvent, Child, Disclosure, Link
from idp.passwords import hash_password
from idp.provisioning.export import read_export
from idp.provisioning.families import import_families
from tests.cli.test_families import SAMPLE, sample_rows, write_export
from tests.oidc_client import OIDCClient

EVERY_CLAIM = {
    "sub",
    "given_name",
    "family_name",
    "name",
    "locale",
    "email",
    "email_verified",
    "children",
}
# What each kind of teleservice is registered for, and the claims it then receives, exactly.
# The demo LSU asks for every scope (clients/lsu); a teleservice registered for less gets less.
CLAIMS_BY_REGISTRATION = {
    "openid profile email children": EVERY_CLAIM,
    "openid children": {"sub", "children"},
    "openid": {"sub"},
}
ID_TOKEN_ONLY = {"iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "azp"}


def signed_in_rp(app, factory, scope: str) -> tuple[OIDCClient, dict, Account]:
    """A parent signs in to a teleservice registered for ``scope``, in a browser of its own."""
    account, password = factory.account()
    client, secret = factory.client(scope=scope)
    rp = OIDCClient(app.test_client(), client.client_id, secret, "https://lsu.example.org/callback")
    return rp, rp.tokens_for(account.identifier, password, scope=scope), account


def test_each_teleservice_receives_exactly_the_claims_of_its_scopes(app, factory):
    for scope, expected in CLAIMS_BY_REGISTRATION.items():
        rp, tokens, account = signed_in_rp(app, factory, scope)
        id_token = rp.id_token_claims(tokens["id_token"])
        userinfo = rp.userinfo(tokens["access_token"]).get_json()
        assert set(userinfo) == expected, scope
        assert set(id_token) - ID_TOKEN_ONLY == expected, scope
        text = json.dumps([id_token, userinfo])
        for child in account.children:  # never the birth date, in any form
            assert child.birthdate.isoformat() not in text
            assert child.birthdate.strftime("%d/%m/%Y") not in text


def test_a_child_who_left_the_school_leaves_the_teleservices_claims(app, factory, tmp_path: Path):
    import_families(read_export(SAMPLE.read_bytes(), SAMPLE.name))
    rows = [row for row in sample_rows() if row[3] != "E1002"]  # Inès left the school
    again = import_families(
        read_export(write_export(tmp_path / "next.csv", rows).read_bytes(), "next.csv")
    )
    assert again.children_departed == 2  # her two parents' links
    (report,) = db.session.scalars(
        select(AuditEvent).filter_by(event="families_imported").order_by(AuditEvent.id.desc())
    ).all()[:1]
    assert report.details["children_departed"] == 2
    ines = db.session.scalar(select(Child).filter_by(ref="E1002"))
    assert db.session.scalar(select(Link).filter_by(child_id=ines.id)) is None

    mother = db.session.scalar(select(Account).filter_by(parent_ref="R0001"))
    mother.status, mother.email, mother.email_verified = "active", "anais@example.org", True
    mother.password_hash = hash_password("Cartable-Bleu-2026")
    db.session.commit()
    client, secret = factory.client()
    rp = OIDCClient(app.test_client(), client.client_id, secret, "https://lsu.example.org/callback")
    claims = rp.claims_for(mother.identifier, "Cartable-Bleu-2026")
    assert [child["sub"] for child in claims["children"]] == ["E1001"]


def download(browser) -> dict:
    response = browser.get("/compte/donnees.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    return json.loads(response.get_data(as_text=True))


def test_mes_donnees_shows_what_is_held_and_what_each_teleservice_received(app, factory):
    rp, tokens, account = signed_in_rp(app, factory, "openid profile children")
    rp.refresh(tokens["refresh_token"])  # a second token: still one row for this client
    (row,) = db.session.scalars(select(Disclosure).filter_by(account_id=account.id)).all()
    assert row.scope == "children openid profile"

    page = rp.browser.get("/compte/donnees").get_data(as_text=True)
    claims = "sub given_name family_name name locale children"
    assert f'data-client="{rp.client_id}" data-claims="{claims}"' in page
    for child in account.children:  # the parent sees the birth dates the school gave
        assert child.birthdate.strftime("%d/%m/%Y") in page
    assert "Linux" in page or "Navigateur" in page  # the device of the recent sign-in
    assert "127.0.0.1" not in page  # no address on the page


def test_the_download_holds_everything_about_the_account_and_nothing_about_anyone_else(
    app, factory
):
    rp, tokens, account = signed_in_rp(app, factory, "openid profile email children")
    other, other_password = factory.account(
        given_name="Bertrand",
        family_name="Autre",
        email="bertrand@example.org",
        children=[],
    )
    OIDCClient(app.test_client(), rp.client_id, rp.client_secret, rp.redirect_uri).tokens_for(
        other.identifier, other_password
    )

    data = download(rp.browser)

    assert data["account"]["identifier"] == account.identifier
    assert data["account"]["email"] == account.email
    assert [c["ref"] for c in data["children"]] == [c.ref for c in account.children]
    assert data["children"][0]["birthdate"] == account.children[0].birthdate.isoformat()
    assert [t["client_id"] for t in data["teleservices"]] == [rp.client_id]
    assert len(data["sign_ins"]) == 1 and data["sign_ins"][0]["user_agent"] is not None
    assert len(data["tokens"]) == 1 and data["tokens"][0]["client_id"] == rp.client_id
    events = db.session.scalars(select(AuditEvent).filter_by(account_id=account.id)).all()
    assert [e["event"] for e in data["events"]] == [e.event for e in events]
    text = json.dumps(data, ensure_ascii=False)
    for foreign in (other.identifier, "Bertrand", "bertrand@example.org", other.public_id):
        assert foreign not in text
    for secret in (account.password_hash, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in text


def test_the_audit_trail_and_logs_name_nobody(app, factory, mailbox, caplog):
    """Accounts are known by their internal id in the audit trail; no name, address or birth
    date in its details or in any log line of a day of flows."""
    rp, tokens, account = signed_in_rp(app, factory, "openid profile email children")
    rp.browser.get("/compte/donnees")
    rp.browser.post("/logout")
    events = db.session.scalars(select(AuditEvent)).all()
    assert events
    trail = json.dumps([[e.event, e.details] for e in events], ensure_ascii=False)
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for personal in (account.given_name, account.family_name, account.email):
        assert personal not in trail and personal not in logs
    for child in account.children:
        for value in (child.given_name, child.birthdate.isoformat()):
            assert value not in trail and value not in logs
