"""The parent's portal (contract §4): a section per child, each with the teleservices offered for
that child; a tile starts a third-party-initiated login (OpenID Connect Core §4) whose
target_link_uri is the child's page with the child's `sub` as that teleservice sees it. A
teleservice limited to some schools is offered, and told of, only the children of those schools.
"""

from __future__ import annotations

import html
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from flask import current_app

from idp.provisioning.accounts import ChildSpec
from tests.oidc_client import OIDCClient, query_of

SCHOOL_A = ("0751234J", "École Jules-Ferry")
SCHOOL_B = ("0759876K", "École Victor-Hugo")
LSU = "https://lsu.example.org"
CANTEEN = "https://cantine.example.org"
TWO_SCHOOLS = [
    ChildSpec("Noé", "Lefèvre", date(2016, 2, 14), SCHOOL_A[0], "CE2", SCHOOL_A[1]),
    ChildSpec("Inès", "Lefèvre", date(2012, 9, 3), SCHOOL_B[0], "6e", SCHOOL_B[1]),
]


def register_canteen(factory):
    return factory.client(
        name="Cantine",
        redirect_uris=[f"{CANTEEN}/callback"],
        subject_type="pairwise",
        initiate_login_uri=f"{CANTEEN}/connexion",
        child_page_uri=f"{CANTEEN}/enfant/{{child}}",
        schools=[SCHOOL_A[0]],
        description="Payer la cantine.",
    )


def register_lsu(factory):
    return factory.client(
        name="Livret scolaire",
        redirect_uris=[f"{LSU}/callback"],
        initiate_login_uri=f"{LSU}/login",
        child_page_uri=f"{LSU}/enfant/{{child}}",
        description="Le livret de chaque période.",
    )


def tiles(page: str) -> dict[str, list[tuple[str, str]]]:
    """Per child ref: the (client_id, href) of each tile, in order."""
    found = {}
    for ref, body in re.findall(r'data-child="([^"]+)">(.*?)</section>', page, re.S):
        found[ref] = [
            (client_id, html.unescape(href))
            for href, client_id in re.findall(
                r'<a class="tile" href="([^"]+)" data-client-id="([^"]+)"', body
            )
        ]
    return found


@pytest.fixture
def family(factory, browser):
    account, password = factory.account(children=TWO_SCHOOLS)
    OIDCClient(browser, "", None, "").sign_in(account.identifier, password)
    return account, password


def test_each_child_lists_its_teleservices_the_lsu_first(factory, browser, family):
    account, _ = family
    canteen, _ = register_canteen(factory)  # registered first, shown after the LSU
    lsu, _ = register_lsu(factory)
    factory.client(name="Sans portail", redirect_uris=["https://autre.example.org/cb"])
    noe, ines = account.children

    page = browser.get("/").get_data(as_text=True)
    shown = tiles(page)
    assert [client for client, _ in shown[noe.ref]] == [lsu.client_id, canteen.client_id]
    assert [client for client, _ in shown[ines.ref]] == [lsu.client_id]
    assert "Payer la cantine." in page and "Le livret de chaque période." in page

    lsu_link = dict(shown[ines.ref])[lsu.client_id]
    assert lsu_link.startswith(f"{LSU}/login?")
    params = query_of(lsu_link)
    assert params["iss"] == current_app.config["ISSUER"]
    assert params["target_link_uri"] == f"{LSU}/enfant/{ines.ref}"

    canteen_child = query_of(dict(shown[noe.ref])[canteen.client_id])["target_link_uri"]
    pairwise_id = urlsplit(canteen_child).path.rsplit("/", 1)[-1]
    assert canteen_child.startswith(f"{CANTEEN}/enfant/") and pairwise_id != noe.ref


def test_a_child_without_teleservice_gets_a_sentence(factory, browser, family):
    register_canteen(factory)
    page = browser.get("/").get_data(as_text=True)
    ines = family[0].children[1]
    section = re.search(rf'data-child="{ines.ref}">(.*?)</section>', page, re.S).group(1)
    assert 'data-message-id="portal.no_teleservice"' in section and "Inès" in section
    assert "Gérer mon compte" in page and "Se déconnecter" in page


def test_the_portal_needs_a_signed_in_parent(browser):
    assert browser.get("/").location.endswith("/login")


def test_a_school_limited_teleservice_learns_nothing_of_a_sibling_elsewhere(
    factory, browser, family
):
    account, password = family
    canteen_client, secret = register_canteen(factory)
    lsu_client, lsu_secret = register_lsu(factory)
    canteen = OIDCClient(browser, canteen_client.client_id, secret, f"{CANTEEN}/callback")
    lsu = OIDCClient(browser, lsu_client.client_id, lsu_secret, f"{LSU}/callback")
    noe = account.children[0]

    tokens = canteen.tokens_for(account.identifier, password)
    in_id_token = canteen.id_token_claims(tokens["id_token"])["children"]
    at_userinfo = canteen.userinfo(tokens["access_token"]).get_json()["children"]
    assert (
        [c["given_name"] for c in in_id_token] == ["Noé"] == [c["given_name"] for c in at_userinfo]
    )
    lsu_children = lsu.claims_for(account.identifier, password)["children"]
    assert [c["given_name"] for c in lsu_children] == ["Noé", "Inès"]

    # The ids a teleservice gets in its claims are those of its portal links; pairwise ones
    # differ from the LSU's.
    links = tiles(browser.get("/").get_data(as_text=True))[noe.ref]
    canteen_page = query_of(dict(links)[canteen_client.client_id])["target_link_uri"]
    assert canteen_page == f"{CANTEEN}/enfant/{in_id_token[0]['sub']}"
    assert lsu_children[0]["sub"] == noe.ref != in_id_token[0]["sub"]
