"""The audit trail tells who did what, when and from where, and never holds a secret.

A representative day: an administrator mints an initial access token, a tool registers a
teleservice with it and updates it, the secret is rotated; a parent mistypes the letter's
password, activates the account (mail, link), and the teleservice exchanges the code, refreshes,
reads userinfo and revokes. No event's details (nor any other column) hold a password, link
token, code, verifier, token or client secret, nor their keyed hashes. A static check guards the
`audit.record` calls no test reaches.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from idp import ROOT
from idp.extensions import db
from idp.models import AuditEvent
from idp.oidc.clients import registration, registry
from idp.passwords import secret_hash
from tests.mailbox import links_in
from tests.oidc_client import OIDCClient, query_of
from tests.test_activation import NEW_PASSWORD, activation_form

CALLBACK = "https://cantine.example.org/callback"
METADATA = {"client_name": "Cantine", "redirect_uris": [CALLBACK]}
WRONG_PASSWORD = "Gomme-Rouge-2025!"
# What a keyword of audit.record must not be called, nor its value be made from.
SECRET_NAME = re.compile(r"password|secret|verifier|(^|_)(token|code|link)$")
SECRET_SOURCE = re.compile(r"password|secret|verifier|token(?!_id)|\bcode\b|link")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register_teleservice(browser) -> tuple[OIDCClient, list[str]]:
    """Mint, register, update, rotate: the teleservice and every secret handed out on the way."""
    initial, _ = registration.mint_initial_token(600)
    response = browser.post("/register", json=METADATA, headers=bearer(initial))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    path = urlsplit(body["registration_client_uri"]).path
    access_token = body["registration_access_token"]
    update = {**METADATA, "client_id": body["client_id"], "client_secret": body["client_secret"]}
    assert browser.put(path, json=update, headers=bearer(access_token)).status_code == 200
    _, rotated = registry.rotate_secret(body["client_id"])
    rp = OIDCClient(browser, body["client_id"], rotated, CALLBACK)
    return rp, [initial, body["client_secret"], access_token, rotated]


def test_no_audit_event_holds_a_secret(app, browser, parent, factory, mailbox):
    rp, secrets = register_teleservice(browser)
    account, letter_password = factory.account(status="provisional", email=None)

    assert rp.sign_in(account.identifier, WRONG_PASSWORD).status_code == 401
    rp.follow(rp.sign_in(account.identifier, letter_password, rp.authorize().location))
    activation_form(parent)
    (link,) = links_in(mailbox.last_to("anais@example.org"))
    back = parent.follow(parent.open_link(urlsplit(link).path))
    code = query_of(back.location)["code"]
    tokens = rp.exchange(code).get_json()
    refreshed = rp.refresh(tokens["refresh_token"]).get_json()
    assert rp.userinfo(refreshed["access_token"]).status_code == 200
    assert rp.revoke(refreshed["refresh_token"]).status_code == 200

    secrets += [WRONG_PASSWORD, letter_password, NEW_PASSWORD, code, rp.verifier]
    secrets += [urlsplit(link).path.rsplit("/", 1)[-1]]
    secrets += [tokens[k] for k in ("access_token", "refresh_token", "id_token")]
    secrets += [refreshed[k] for k in ("access_token", "refresh_token")]
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    expected = {
        "initial_access_token_minted",
        "client_registered",
        "client_updated",
        "client_secret_rotated",
        "login_failed",
        "login",
        "activation_submitted",
        "activation_mail_sent",
        "activation_confirmed",
    }
    assert expected <= {event.event for event in events}
    trail = json.dumps(
        [[e.event, e.client_id, e.ip_address, e.details] for e in events], ensure_ascii=False
    )
    for secret in secrets:
        assert secret not in trail
        assert secret_hash(secret) not in trail


def _record_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted(Path(ROOT, "idp").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def test_no_audit_record_call_passes_a_secret():
    calls = _record_calls()

    assert len(calls) > 10  # the check sees the calls it guards
    for where, call in calls:
        for keyword in call.keywords:
            if keyword.arg == "commit" or isinstance(keyword.value, ast.Constant):
                continue  # a literal ("password", the kind of a request) holds no secret
            source = ast.unparse(keyword.value)  # `**details` has no name: its source is checked
            assert not SECRET_NAME.search(keyword.arg or ""), where
            assert not SECRET_SOURCE.search(source), f"{where}: {keyword.arg}={source}"
