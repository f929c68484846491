"""An active parent manages the account from "Gérer mon compte": sees the identity, the children
and who has access (teleservices, signed-in browsers), revokes a teleservice, ends sessions,
changes the password and the email address (a link to the new one, a notice to the old one)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from idp.extensions import db
from idp.flows.account.signed_in import describe_browser
from idp.models import Flow, LoginSession
from idp.models.base import utcnow
from idp.models.flows import EMAIL_CHANGE
from tests.mailbox import links_in, text_of, wait_for_outbox
from tests.oidc_client import OIDCClient
from tests.parent import Parent, Shown

FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
NEW_PASSWORD = "Gomme-Rouge-Cahier-47"
NEW_EMAIL = "anais.nouvelle@example.net"


def test_every_page_but_the_mailed_link_needs_a_signed_in_browser(parent: Parent):
    for path in ("/compte", "/compte/mot-de-passe", "/compte/adresse"):
        response = parent.open(path)
        assert response.status_code == 302 and response.location.endswith("/login"), path
    for path in ("/compte/deconnexion-partout", "/compte/sessions/x/terminer"):
        response = parent.post(path)
        assert response.status_code == 302 and response.location.endswith("/login"), path


def test_the_portal_leads_to_the_account_page_which_shows_identity_and_children(
    make_parent, factory
):
    account, password = factory.account()
    parent = make_parent(FIREFOX_ANDROID).signed_in_as(account, password)
    portal = parent.open("/")
    assert "/compte" in portal.links() and "Gérer mon compte" in portal.text

    page = parent.open("/compte")
    assert "Anaïs Lefèvre" in page.text and account.identifier in page.text
    assert "anais@example.org" in page.text and "vérifiée" in page.text
    assert "Noé Lefèvre" in page.text and "Inès Lefèvre" in page.text
    assert "École Jules-Ferry" in page.text
    assert "Seule l'école peut modifier les enfants" in page.text
    assert "/" in page.links()  # back to the portal
    assert "Aucun téléservice" in page.text


def change_password(parent: Parent, current: str, new: str, confirm: str | None = None):
    return parent.submit(
        "/compte/mot-de-passe",
        current_password=current,
        new_password=new,
        new_password_confirm=new if confirm is None else confirm,
    )


def test_changing_the_password_signs_out_the_other_browsers_and_revokes_tokens(
    make_parent, rp: OIDCClient, parent: Parent, factory, mailbox
):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)  # this browser, signed in
    other = make_parent(CHROME_WINDOWS).signed_in_as(account, password)
    assert other.open("/compte").status_code == 200

    wrong = change_password(parent, "Pas-Le-Bon-2026", NEW_PASSWORD)
    assert wrong.status_code == 400
    assert wrong.errors("current_password") == ["account.current_password_wrong"]
    weak = change_password(parent, password, "court")
    assert weak.status_code == 400
    assert "password.too_short" in weak.errors("new_password")
    same = change_password(parent, password, password)
    assert same.errors("new_password") == ["account.password_unchanged"]
    differ = change_password(parent, password, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert differ.status_code == 400
    assert "field.passwords_differ" in differ.message_ids

    done = change_password(parent, password, NEW_PASSWORD)
    assert done.status_code == 302 and done.location.endswith("/compte")
    assert "account.password_changed" in parent.open("/compte").message_ids  # still in

    assert other.open("/compte").location.endswith("/login")  # the other browser is out
    assert make_parent().sign_in(account.identifier, password).status_code == 401
    assert make_parent().signed_in_as(account, NEW_PASSWORD).open("/compte").status_code == 200

    refused = rp.refresh(tokens["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    notice = mailbox.last_to("anais@example.org")
    assert notice["Subject"] == "Votre mot de passe a été modifié"
    assert links_in(notice) == []  # a notice asks nothing: no link
    assert "password_change_refused" in parent.events(account)
    assert "password_changed" in parent.events(account)


def test_changing_the_email_confirms_the_new_address_before_it_counts(
    make_parent, parent: Parent, factory, mailbox
):
    account, password = factory.account()
    parent.signed_in_as(account, password)

    asked = parent.submit("/compte/adresse", email=NEW_EMAIL)
    assert asked.status_code == 302
    page = parent.open("/compte")
    (sent,) = [m for m in page.messages if m.id == "account.email_change_sent"]
    assert NEW_EMAIL in sent.text
    assert f"en attente de confirmation : {NEW_EMAIL}" in page.text

    confirmation = mailbox.last_to(NEW_EMAIL)
    assert confirmation["Subject"] == "Confirmez votre nouvelle adresse électronique"
    (link,) = links_in(confirmation)  # exactly one link: the action link
    notice = mailbox.last_to("anais@example.org")
    assert notice["Subject"] == "Demande de changement d'adresse électronique"
    assert links_in(notice) == [] and "a***@example.net" in text_of(notice)

    db.session.refresh(account)
    assert account.email == "anais@example.org"  # the old address holds until confirmed

    phone = make_parent()  # the link works from any browser, signed in or not
    confirmed = phone.open_link(urlsplit(link).path)
    assert confirmed.status_code == 200
    assert confirmed.message_ids == ["account.email_confirmed"]
    db.session.refresh(account)
    assert account.email == NEW_EMAIL and account.email_verified is True
    assert NEW_EMAIL in parent.open("/compte").text

    again = phone.open_link(urlsplit(link).path)
    assert again.status_code == 400 and again.alert_ids == ["link.used"]
    wait_for_outbox()  # the receipt is written once the SMTP server took the mail
    for event in ("email_change_requested", "email_change_mail_sent", "email_changed"):
        assert event in parent.events()


def test_the_new_address_is_checked_before_any_mail(parent: Parent, factory, mailbox):
    account, password = factory.account()
    parent.signed_in_as(account, password)
    bad = parent.submit("/compte/adresse", email="anais@")
    assert bad.status_code == 400 and bad.errors("email") == ["field.email_invalid"]
    same = parent.submit("/compte/adresse", email="Anais@Example.org")
    assert same.status_code == 400 and same.errors("email") == ["account.email_unchanged"]
    empty = parent.submit("/compte/adresse", email="")
    assert empty.status_code == 400 and empty.errors("email") == ["field.email_missing"]
    assert mailbox.messages == []


def test_address_changes_are_limited_to_five_mails_an_hour(parent: Parent, factory, mailbox):
    account, password = factory.account()
    parent.signed_in_as(account, password)
    assert parent.submit("/compte/adresse", email="pas-une-adresse").status_code == 400
    for number in range(5):
        asked = parent.submit("/compte/adresse", email=f"n{number}@example.net")
        assert asked.status_code == 302
    refused = parent.submit("/compte/adresse", email="n5@example.net")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "error.429" in refused.message_ids
    assert mailbox.to("n5@example.net", timeout=0.2) == []


def test_replaced_expired_and_unknown_links_say_so(parent: Parent, factory, mailbox):
    account, password = factory.account()
    parent.signed_in_as(account, password)
    parent.submit("/compte/adresse", email=NEW_EMAIL)
    (first,) = links_in(mailbox.last_to(NEW_EMAIL))
    parent.submit("/compte/adresse", email="autre@example.net")
    (second,) = links_in(mailbox.last_to("autre@example.net"))

    replaced = parent.open_link(urlsplit(first).path)
    assert replaced.status_code == 400 and replaced.alert_ids == ["link.replaced"]
    flow = db.session.scalar(db.select(Flow).filter_by(kind=EMAIL_CHANGE, state="sent"))
    flow.expires_at = utcnow() - timedelta(minutes=1)
    expired = parent.open_link(urlsplit(second).path)
    assert expired.status_code == 400 and expired.alert_ids == ["link.expired"]
    unknown = parent.open("/compte/adresse/confirmer/pas-un-jeton")
    assert unknown.status_code == 400 and unknown.alert_ids == ["link.unknown"]
    db.session.refresh(account)
    assert account.email == "anais@example.org"


def test_a_password_change_cancels_a_pending_address_change(
    make_parent, parent: Parent, factory, mailbox
):
    account, password = factory.account()
    parent.signed_in_as(account, password)
    parent.submit("/compte/adresse", email=NEW_EMAIL)
    (link,) = links_in(mailbox.last_to(NEW_EMAIL))
    assert change_password(parent, password, NEW_PASSWORD).status_code == 302
    response = make_parent().open_link(urlsplit(link).path)
    assert response.status_code == 400 and response.alert_ids == ["link.cancelled"]
    db.session.refresh(account)
    assert account.email == "anais@example.org"


def test_revoking_a_teleservice_ends_its_tokens_only(
    rp: OIDCClient, new_rp, parent: Parent, factory
):
    account, password = factory.account()
    lsu = rp.tokens_for(account.identifier, password)
    canteen = new_rp(name="Cantine scolaire")
    canteen_tokens = canteen.tokens_for(account.identifier, password)  # SSO: no password asked

    page = parent.open("/compte")
    assert "LSU de test" in page.text and "Cantine scolaire" in page.text
    assert "Dernière utilisation" in page.text and "Révoquer l'accès" in page.text

    action = f"/compte/teleservices/{rp.client_id}/revoquer"
    assert parent.submit("/compte", action).status_code == 302
    page = parent.open("/compte")
    assert "account.client_revoked" in page.message_ids
    assert "LSU de test" not in page.text and "Cantine scolaire" in page.text

    assert rp.userinfo(lsu["access_token"]).status_code == 401
    assert rp.refresh(lsu["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert canteen.userinfo(canteen_tokens["access_token"]).status_code == 200
    assert "client_access_revoked" in parent.events(account)

    # The next visit goes through the provider again; the browser's session answers.
    again = rp.tokens_for(account.identifier, password)
    assert rp.userinfo(again["access_token"]).status_code == 200
    assert "LSU de test" in parent.open("/compte").text


def test_another_accounts_teleservice_or_session_is_out_of_reach(
    make_parent, rp: OIDCClient, parent: Parent, factory
):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    intruder_account, intruder_password = factory.account(given_name="Marc", email="m@example.org")
    intruder = make_parent().signed_in_as(intruder_account, intruder_password)

    intruder.post(f"/compte/teleservices/{rp.client_id}/revoquer", page="/compte")
    assert rp.userinfo(tokens["access_token"]).status_code == 200
    victim = db.session.scalar(db.select(LoginSession).filter_by(account_id=account.id))
    intruder.post(f"/compte/sessions/{victim.id}/terminer", page="/compte")
    assert parent.open("/compte").status_code == 200


def test_sessions_are_listed_and_another_one_can_be_ended(app, make_parent, factory):
    account, password = factory.account()
    phone = make_parent(FIREFOX_ANDROID).signed_in_as(account, password)
    desktop = make_parent(CHROME_WINDOWS).signed_in_as(account, password)
    stale = make_parent(CHROME_WINDOWS).signed_in_as(account, password)
    idle = app.config["SESSION_IDLE_TTL"]
    old = db.session.scalars(
        db.select(LoginSession).filter_by(account_id=account.id).order_by(LoginSession.auth_time)
    ).all()[-1]
    old.last_seen_at = utcnow() - timedelta(seconds=idle + 60)  # idle: no longer signs in

    page = phone.open("/compte")
    assert "Firefox sur Android" in page.text and "Chrome sur Windows" in page.text
    badges = [e.text for e in page.tree.find_all("span") if "badge" in (e.get("class") or "")]
    assert badges.count("cette session") == 1
    assert [b.text for b in page.tree.find_all("button")].count("Fermer cette session") == 1
    (desktop_id,) = re.findall(r"/compte/sessions/([^/]+)/terminer", page.html)
    assert desktop_id != old.id

    own_id = db.session.scalar(
        db.select(LoginSession.id).filter(
            LoginSession.account_id == account.id, LoginSession.user_agent == FIREFOX_ANDROID
        )
    )
    phone.post(f"/compte/sessions/{own_id}/terminer", page="/compte")  # not this way
    assert phone.open("/compte").status_code == 200

    ended = phone.submit("/compte", f"/compte/sessions/{desktop_id}/terminer")
    assert ended.status_code == 302
    assert "account.session_ended" in phone.open("/compte").message_ids
    assert desktop.open("/compte").location.endswith("/login")
    assert phone.open("/compte").status_code == 200
    assert stale.open("/compte").location.endswith("/login")
    assert "session_ended" in phone.events()


def test_signing_out_everywhere_ends_every_session_but_not_the_teleservices_tokens(
    make_parent, rp: OIDCClient, parent: Parent, factory
):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    other = make_parent(CHROME_WINDOWS).signed_in_as(account, password)

    response = parent.submit("/compte", "/compte/deconnexion-partout")
    assert response.status_code == 200
    assert response.message_ids == ["account.signed_out_everywhere"]
    assert parent.open("/compte").location.endswith("/login")
    assert other.open("/compte").location.endswith("/login")
    assert rp.userinfo(tokens["access_token"]).status_code == 200  # revoked one by one instead
    assert "signed_out_everywhere" in parent.events(account)


def test_the_account_page_speaks_english_to_an_english_browser(make_parent, factory):
    account, password = factory.account()
    parent = make_parent(FIREFOX_ANDROID).signed_in_as(account, password)
    page = parent.open("/compte", headers={"Accept-Language": "en"})
    assert "Manage my account" in page.text and "Firefox on Android" in page.text
    assert "Only the school can change the children" in page.text


def test_the_account_messages_are_worded_in_french_and_in_english(parent: Parent, factory):
    """The words behind the ids the other tests check, in both languages, on purpose."""
    account, password = factory.account()
    parent.signed_in_as(account, password)
    for language, words in (
        ("fr", "Mot de passe actuel incorrect."),
        ("en", "Incorrect current password."),
    ):
        page = parent.submit(
            "/compte/mot-de-passe",
            headers={"Accept-Language": language},
            current_password="Pas-Le-Bon-2026",
            new_password=NEW_PASSWORD,
            new_password_confirm=NEW_PASSWORD,
        )
        assert page.error_texts("current_password") == [words], language

    assert change_password(parent, password, NEW_PASSWORD).status_code == 302
    (flash,) = parent.open("/compte", headers={"Accept-Language": "en"}).messages
    assert flash == Shown(
        "account.password_changed",
        "Your password has been changed. Your other sessions have been ended.",
    )


@pytest.mark.parametrize(
    ("user_agent", "description"),
    [
        (FIREFOX_ANDROID, "Firefox sur Android"),
        (CHROME_WINDOWS, "Chrome sur Windows"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari sur iPhone",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge sur Mac",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox sur Linux",
        ),
        ("curl/8.5.0", "Navigateur inconnu"),
    ],
)
def test_browsers_are_described_in_words(app, user_agent: str, description: str):
    with app.test_request_context():
        assert describe_browser(user_agent) == description
