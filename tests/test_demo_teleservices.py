"""Over real HTTP, the demo teleservices as a parent's browser meets them: a third-party-initiated
login from the portal lands on the child's page; the LSU honours back-channel logout (its own
session ends when the parent signs out at the provider); the canteen sees pairwise child ids,
only for its school; neither follows a target_link_uri elsewhere nor a login started by
another issuer; a forged logout token is refused."""

from __future__ import annotations

import html
import re
import time
from datetime import date
from urllib.parse import urlencode

import requests

from idp.provisioning.accounts import ChildSpec
from tests.factories import CHILDREN, Factory
from tests.test_live_oidc_client import CSRF, sign_in_on_login_page

COLLEGE = ChildSpec("Léo", "Lefèvre", date(2013, 5, 21), "0759876K", "6e", "Collège Victor-Hugo")


def signed_in_at_provider(live_server, account, password) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{live_server.url}/login")
    sign_in_on_login_page(browser, page, account.identifier, password)
    return browser


def portal_links(browser, live_server) -> dict[tuple[str, str], str]:
    """(child heading, teleservice name) → the tile's link."""
    page = browser.get(f"{live_server.url}/").text
    links = {}
    for body in re.findall(r'<section class="card child".*?</section>', page, re.S):
        child = re.search(r"<h2>(.*?)</h2>", body).group(1)
        for href, name in re.findall(
            r'<a class="tile" href="([^"]+)"[^>]*>\s*<span class="tile-name">(.*?)</span>', body
        ):
            links[(child, html.unescape(name))] = html.unescape(href)
    return links


def test_a_tile_lands_on_the_childs_page_and_backchannel_logout_ends_the_lsu_session(
    app, live_server, lsu_server, canteen_server
):
    account, password = Factory(app).account(children=[*CHILDREN, COLLEGE])
    browser = signed_in_at_provider(live_server, account, password)
    links = portal_links(browser, live_server)
    assert ("Léo Lefèvre", "Cantine scolaire (démonstration)") not in links
    lsu_link = links[("Inès Lefèvre", "Livret scolaire unique (démonstration)")]

    page = browser.get(lsu_link)  # SSO: no password
    assert page.url == f"{lsu_server}/enfant/{account.children[1].ref}"
    assert "Livret de Inès Lefèvre" in html.unescape(page.text)

    canteen = browser.get(links[("Noé Lefèvre", "Cantine scolaire (démonstration)")])
    pairwise_id = canteen.url.rsplit("/", 1)[-1]
    assert canteen.url.startswith(f"{canteen_server}/enfant/")
    assert pairwise_id != account.children[0].ref
    canteen_home = html.unescape(browser.get(f"{canteen_server}/").text)
    assert "Noé" in canteen_home and "Inès" in canteen_home and "Léo" not in canteen_home

    token = CSRF.search(browser.get(f"{live_server.url}/").text).group(1)
    browser.post(f"{live_server.url}/logout", data={"csrf_token": token})  # the portal's button

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        again = browser.get(page.url, allow_redirects=False)
        if again.status_code == 302:
            break
        time.sleep(0.2)
    assert again.status_code == 302 and again.headers["Location"].endswith("/login")
    asked = browser.get(page.url)
    assert asked.url.startswith(f"{live_server.url}/login")  # the password is asked again


def test_the_demos_refuse_foreign_issuers_targets_and_logout_tokens(app, live_server, lsu_server):
    account, password = Factory(app).account()
    browser = signed_in_at_provider(live_server, account, password)
    foreign = browser.get(f"{lsu_server}/login?" + urlencode({"iss": "https://evil.example"}))
    assert foreign.status_code == 400 and "issuer_mismatch" in foreign.text

    elsewhere = urlencode({"iss": live_server.url, "target_link_uri": "https://evil.example/x"})
    landed = browser.get(f"{lsu_server}/login?{elsewhere}")
    assert landed.url == f"{lsu_server}/"

    forged = requests.post(
        f"{lsu_server}/backchannel-logout", data={"logout_token": "a.b.c"}, timeout=10
    )
    assert forged.status_code == 400
    assert browser.get(f"{lsu_server}/").text.count("Bonjour") == 1  # still signed in
