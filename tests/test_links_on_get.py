"""Opening a mailed link changes nothing (contract §4): mail scanners open links before the
parent does. The page shows one button, a POST with csrf_token to the link's own address; the
parent who presses it is activated and, in the browser that started there, back on the
teleservice."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.mailbox import links_in
from tests.oidc_client import OIDCClient, csrf_token, press_link, query_of
from tests.parent import Parent
from tests.test_activation import activation_form
from tests.test_activation_rules import activated, reloaded


def other_browser(browser):
    return browser.application.test_client()


def test_a_scanner_opening_the_activation_link_spends_nothing(browser, rp, factory, mailbox):
    account, letter_password = factory.account(status="provisional", email=None)
    rp.follow(rp.sign_in(account.identifier, letter_password, rp.authorize().location))
    activation_form(Parent(browser))
    (link,) = links_in(mailbox.last_to("anais@example.org"))
    path = urlsplit(link).path

    for _ in range(3):  # the corporate gateway, the webmail preview, a second scan
        scanned = other_browser(browser).get(path)
        assert scanned.status_code == 200
        html = scanned.get_data(as_text=True)
        assert 'data-action="confirm-link"' in html and f'action="{path}"' in html
    assert reloaded(account).status == "pending_email"

    back = rp.follow(press_link(browser, path))  # the parent, in the teleservice's browser
    assert back.location.startswith(rp.redirect_uri) and "code" in query_of(back.location)
    assert reloaded(account).status == "active"


def test_the_button_needs_its_csrf_token(browser, factory, mailbox):
    account, _, path = activated(Parent(browser), factory, mailbox)
    assert other_browser(browser).post(path).status_code == 400
    assert reloaded(account).status == "pending_email"


def test_a_scanner_opening_the_email_change_link_spends_nothing(browser, factory, mailbox):
    account, password = factory.account()
    OIDCClient(browser, "", None, "").sign_in(account.identifier, password)
    page = browser.get("/compte/adresse")
    browser.post(
        "/compte/adresse",
        data={"email": "nouvelle@example.net", "csrf_token": csrf_token(page.get_data(True))},
    )
    (link,) = links_in(mailbox.last_to("nouvelle@example.net"))
    path = urlsplit(link).path

    assert other_browser(browser).get(path).status_code == 200
    assert reloaded(account).email == "anais@example.org"
    assert press_link(other_browser(browser), path).status_code == 200
    assert reloaded(account).email == "nouvelle@example.net"
