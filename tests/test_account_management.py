"""An active parent manages the account from "Gérer mon compte": sees the identity, the children
and who has access (teleservices, signed-in browsers), revokes a teleservice, ends sessions,
changes the password and the email address (a link to the new one, a notice to the old one)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from idp.extensions import db
from idp.flows.account.signed_in import describe_browser
from idp.models import AuditEvent, Flow, LoginSession
from idp.models.base import utcnow
from idp.models.flows import EMAIL_CHANGE
from tests.mailbox import links_in, text_of
from tests.oidc_client import OIDCClient, csrf_token

FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
NEW_PASSWORD = "Gomme-Rouge-Cahier-47"
NEW_EMAIL = "anais.nouvelle@example.net"


def signed_in(app, account, password: str, user_agent: str = FIREFOX_ANDROID):
    """Another browser (its own cookies), signed in to the account."""
    browser = app.test_client()
    browser.environ_base["HTTP_USER_AGENT"] = user_agent
    response = OIDCClient(browser, "", None, "").sign_in(account.identifier, password)
    assert response.status_code == 302
    return browser


def submit(browser, page: str, action: str | None = None, **fields):
    """Open the page, then send its form (or the button posting to `action`) with its token."""
    token = csrf_token(browser.get(page).get_data(as_text=True))
    return browser.post(action or page, data={**fields, "csrf_token": token})


def text(response) -> str:
    """The page as a reader sees it (entities such as &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def error_beside(response, field: str) -> str:
    """The error messages the field's aria-describedby points at: what is shown beside it."""
    page = text(response)
    tag = re.search(rf'<input[^>]*\bid="{field}"[^>]*>', page)
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0)) if tag else None
    messages = []
    for element_id in described.group(1).split() if described else []:
        found = re.search(rf'<span class="error" id="{element_id}"[^>]*>(.*?)</span>', page)
        if found:
            messages.append(re.sub(r"<[^>]+>", " ", found.group(1)).strip())
    return " ".join(messages)


def events() -> list[str]:
    return [e.event for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_every_page_but_the_mailed_link_needs_a_signed_in_browser(browser, factory):
    for path in ("/compte", "/compte/mot-de-passe", "/compte/adresse"):
        response = browser.get(path)
        assert response.status_code == 302 and response.location.endswith("/login"), path
    token = csrf_token(text(browser.get("/login")))
    for path in ("/compte/deconnexion-partout", "/compte/sessions/x/terminer"):
        response = browser.post(path, data={"csrf_token": token})
        assert response.status_code == 302 and response.location.endswith("/login"), path


def test_the_portal_leads_to_the_account_page_which_shows_identity_and_children(app, factory):
    account, password = factory.account()
    browser = signed_in(app, account, password)
    portal = text(browser.get("/"))
    assert 'href="/compte"' in portal and "Gérer mon compte" in portal

    page = text(browser.get("/compte"))
    assert "Anaïs Lefèvre" in page and account.identifier in page
    assert "anais@example.org" in page and "vérifiée" in page
    assert "Noé Lefèvre" in page and "Inès Lefèvre" in page and "École Jules-Ferry" in page
    assert "Seule l'école peut modifier les enfants" in page
    assert 'href="/"' in page  # back to the portal
    assert "Aucun téléservice" in page


def test_changing_the_password_signs_out_the_other_browsers_and_revokes_tokens(
    app, rp: OIDCClient, factory, mailbox
):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)  # this browser, signed in
    other = signed_in(app, account, password, CHROME_WINDOWS)
    assert other.get("/compte").status_code == 200

    wrong = submit(
        rp.browser,
        "/compte/mot-de-passe",
        current_password="Pas-Le-Bon-2026",
        new_password=NEW_PASSWORD,
        new_password_confirm=NEW_PASSWORD,
    )
    assert wrong.status_code == 400
    assert error_beside(wrong, "current_password") == "Mot de passe actuel incorrect."
    weak = submit(
        rp.browser,
        "/compte/mot-de-passe",
        current_password=password,
        new_password="court",
        new_password_confirm="court",
    )
    assert weak.status_code == 400
    assert "au moins 12 caractères" in error_beside(weak, "new_password")
    same = submit(
        rp.browser,
        "/compte/mot-de-passe",
        current_password=password,
        new_password=password,
        new_password_confirm=password,
    )
    assert "différent du mot de passe actuel" in error_beside(same, "new_password")

    done = submit(
        rp.browser,
        "/compte/mot-de-passe",
        current_password=password,
        new_password=NEW_PASSWORD,
        new_password_confirm=NEW_PASSWORD,
    )
    assert done.status_code == 302 and done.location.endswith("/compte")
    assert "Votre mot de passe a été modifié" in text(rp.browser.get("/compte"))  # still in

    assert other.get("/compte").location.endswith("/login")  # the other browser is out
    stranger = app.test_client()
    assert (
        OIDCClient(stranger, "", None, "").sign_in(account.identifier, password).status_code == 401
    )
    assert signed_in(app, account, NEW_PASSWORD).get("/compte").status_code == 200

    refused = rp.refresh(tokens["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    notice = mailbox.last_to("anais@example.org")
    assert notice["Subject"] == "Votre mot de passe a été modifié"
    assert links_in(notice) == []  # a notice asks nothing: no link
    assert "password_change_refused" in events() and "password_changed" in events()


def test_changing_the_email_confirms_the_new_address_before_it_counts(app, factory, mailbox):
    account, password = factory.account()
    browser = signed_in(app, account, password)

    asked = submit(browser, "/compte/adresse", email=NEW_EMAIL)
    assert asked.status_code == 302
    page = text(browser.get("/compte"))
    assert f"Un message vient d'être envoyé à {NEW_EMAIL}" in page
    assert "en attente de confirmation" in page

    confirmation = mailbox.last_to(NEW_EMAIL)
    assert confirmation["Subject"] == "Confirmez votre nouvelle adresse électronique"
    (link,) = links_in(confirmation)  # exactly one link: the action link
    notice = mailbox.last_to("anais@example.org")
    assert notice["Subject"] == "Demande de changement d'adresse électronique"
    assert links_in(notice) == [] and "a***@example.net" in text_of(notice)

    db.session.refresh(account)
    assert account.email == "anais@example.org"  # the old address holds until confirmed

    phone = app.test_client()  # the link works from any browser, signed in or not
    confirmed = phone.get(urlsplit(link).path)
    assert confirmed.status_code == 200
    assert "Votre nouvelle adresse est confirmée" in text(confirmed)
    db.session.refresh(account)
    assert account.email == NEW_EMAIL and account.email_verified is True
    assert NEW_EMAIL in text(browser.get("/compte"))

    again = phone.get(urlsplit(link).path)
    assert again.status_code == 400 and "Ce lien a déjà servi." in text(again)
    for event in ("email_change_requested", "email_change_mail_sent", "email_changed"):
        assert event in events()


def test_the_new_address_is_checked_before_any_mail(app, factory, mailbox):
    account, password = factory.account()
    browser = signed_in(app, account, password)
    bad = submit(browser, "/compte/adresse", email="anais@")
    assert bad.status_code == 400 and "n'est pas valide" in error_beside(bad, "email")
    same = submit(browser, "/compte/adresse", email="Anais@Example.org")
    assert same.status_code == 400 and "déjà l'adresse" in error_beside(same, "email")
    assert mailbox.messages == []


def test_address_changes_are_limited_to_five_mails_an_hour(app, factory, mailbox):
    account, password = factory.account()
    browser = signed_in(app, account, password)
    assert submit(browser, "/compte/adresse", email="pas-une-adresse").status_code == 400
    for number in range(5):
        assert submit(browser, "/compte/adresse", email=f"n{number}@example.net").status_code == 302
    refused = submit(browser, "/compte/adresse", email="n5@example.net")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert mailbox.to("n5@example.net", timeout=0.2) == []


def test_replaced_expired_and_unknown_links_say_so(app, factory, mailbox):
    account, password = factory.account()
    browser = signed_in(app, account, password)
    submit(browser, "/compte/adresse", email=NEW_EMAIL)
    (first,) = links_in(mailbox.last_to(NEW_EMAIL))
    submit(browser, "/compte/adresse", email="autre@example.net")
    (second,) = links_in(mailbox.last_to("autre@example.net"))

    replaced = browser.get(urlsplit(first).path)
    assert replaced.status_code == 400 and "Un lien plus récent" in text(replaced)
    flow = db.session.scalar(db.select(Flow).filter_by(kind=EMAIL_CHANGE, state="sent"))
    flow.expires_at = utcnow() - timedelta(minutes=1)
    expired = browser.get(urlsplit(second).path)
    assert expired.status_code == 400 and "Ce lien a expiré." in text(expired)
    unknown = browser.get("/compte/adresse/confirmer/pas-un-jeton")
    assert unknown.status_code == 400 and "n'est pas valide" in text(unknown)
    db.session.refresh(account)
    assert account.email == "anais@example.org"


def test_a_password_change_cancels_a_pending_address_change(app, factory, mailbox):
    account, password = factory.account()
    browser = signed_in(app, account, password)
    submit(browser, "/compte/adresse", email=NEW_EMAIL)
    (link,) = links_in(mailbox.last_to(NEW_EMAIL))
    submit(
        browser,
        "/compte/mot-de-passe",
        current_password=password,
        new_password=NEW_PASSWORD,
        new_password_confirm=NEW_PASSWORD,
    )
    response = app.test_client().get(urlsplit(link).path)
    assert response.status_code == 400
    db.session.refresh(account)
    assert account.email == "anais@example.org"


def test_revoking_a_teleservice_ends_its_tokens_only(rp: OIDCClient, new_rp, factory):
    account, password = factory.account()
    lsu = rp.tokens_for(account.identifier, password)
    canteen = new_rp(name="Cantine scolaire")
    canteen_tokens = canteen.tokens_for(account.identifier, password)  # SSO: no password asked

    page = text(rp.browser.get("/compte"))
    assert "LSU de test" in page and "Cantine scolaire" in page
    assert "Dernière utilisation" in page and "Révoquer l'accès" in page

    action = f"/compte/teleservices/{rp.client_id}/revoquer"
    assert submit(rp.browser, "/compte", action).status_code == 302
    page = text(rp.browser.get("/compte"))
    assert "L'accès du téléservice est révoqué." in page
    assert "LSU de test" not in page and "Cantine scolaire" in page

    assert rp.userinfo(lsu["access_token"]).status_code == 401
    assert rp.refresh(lsu["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert canteen.userinfo(canteen_tokens["access_token"]).status_code == 200
    assert "client_access_revoked" in events()

    # The next visit goes through the provider again; the browser's session answers.
    again = rp.tokens_for(account.identifier, password)
    assert rp.userinfo(again["access_token"]).status_code == 200
    assert "LSU de test" in text(rp.browser.get("/compte"))


def test_another_accounts_teleservice_or_session_is_out_of_reach(app, rp: OIDCClient, factory):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    intruder_account, intruder_password = factory.account(given_name="Marc", email="m@example.org")
    intruder = signed_in(app, intruder_account, intruder_password)

    submit(intruder, "/compte", f"/compte/teleservices/{rp.client_id}/revoquer")
    assert rp.userinfo(tokens["access_token"]).status_code == 200
    victim = db.session.scalar(db.select(LoginSession).filter_by(account_id=account.id))
    submit(intruder, "/compte", f"/compte/sessions/{victim.id}/terminer")
    assert rp.browser.get("/compte").status_code == 200


def test_sessions_are_listed_and_another_one_can_be_ended(app, factory):
    account, password = factory.account()
    phone = signed_in(app, account, password, FIREFOX_ANDROID)
    desktop = signed_in(app, account, password, CHROME_WINDOWS)
    stale = signed_in(app, account, password, CHROME_WINDOWS)
    idle = app.config["SESSION_IDLE_TTL"]
    old = db.session.scalars(
        db.select(LoginSession).filter_by(account_id=account.id).order_by(LoginSession.auth_time)
    ).all()[-1]
    old.last_seen_at = utcnow() - timedelta(seconds=idle + 60)  # idle: no longer signs in

    page = text(phone.get("/compte"))
    assert "Firefox sur Android" in page and "Chrome sur Windows" in page
    assert page.count(">cette session<") == 1 and page.count("Fermer cette session") == 1
    (desktop_id,) = re.findall(r"/compte/sessions/([^/]+)/terminer", page)
    assert desktop_id != old.id

    own_id = db.session.scalar(
        db.select(LoginSession.id).filter(
            LoginSession.account_id == account.id, LoginSession.user_agent == FIREFOX_ANDROID
        )
    )
    submit(phone, "/compte", f"/compte/sessions/{own_id}/terminer")  # not this way
    assert phone.get("/compte").status_code == 200

    ended = submit(phone, "/compte", f"/compte/sessions/{desktop_id}/terminer")
    assert ended.status_code == 302
    assert "La session est fermée." in text(phone.get("/compte"))
    assert desktop.get("/compte").location.endswith("/login")
    assert phone.get("/compte").status_code == 200
    assert stale.get("/compte").location.endswith("/login")
    assert "session_ended" in events()


def test_signing_out_everywhere_ends_every_session_but_not_the_teleservices_tokens(
    app, rp: OIDCClient, factory
):
    account, password = factory.account()
    tokens = rp.tokens_for(account.identifier, password)
    other = signed_in(app, account, password, CHROME_WINDOWS)

    response = submit(rp.browser, "/compte", "/compte/deconnexion-partout")
    assert response.status_code == 200 and "Vous êtes déconnecté partout" in text(response)
    assert rp.browser.get("/compte").location.endswith("/login")
    assert other.get("/compte").location.endswith("/login")
    assert rp.userinfo(tokens["access_token"]).status_code == 200  # revoked one by one instead
    assert "signed_out_everywhere" in events()


def test_the_account_page_speaks_english_to_an_english_browser(app, factory):
    account, password = factory.account()
    browser = signed_in(app, account, password)
    page = text(browser.get("/compte", headers={"Accept-Language": "en"}))
    assert "Manage my account" in page and "Firefox on Android" in page
    assert "Only the school can change the children" in page


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
