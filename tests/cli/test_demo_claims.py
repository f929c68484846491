"""Issue 13, minimal claims: for each demo teleservice `idp demo` registers, exactly the claims
it receives about the demo family (ID token and userinfo alike), and never a birth date."""

from __future__ import annotations

import json

from tests.cli.harness import Cli
from tests.oidc_client import OIDCClient

ID_TOKEN_ONLY = {"iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "azp"}
# What each demo teleservice receives (README "Données personnelles"): the LSU every scope of
# every child; the canteen, limited to the école, no address and only the école's children.
EXPECTED = {
    "lsu": {
        "claims": {
            "sub",
            "given_name",
            "family_name",
            "name",
            "locale",
            "email",
            "email_verified",
            "children",
        },
        "children": ["Noé", "Inès", "Léo"],
        "scope": "openid profile email children",
    },
    "canteen": {
        "claims": {"sub", "given_name", "family_name", "name", "locale", "children"},
        "children": ["Noé", "Inès"],
        "scope": "openid profile children",
    },
}


def test_each_demo_teleservice_receives_exactly_its_claims(cli: Cli):
    demo = cli.invoke_json("demo")
    family = demo["families"][0]
    seen_children: dict[str, list[str]] = {}
    with cli.app() as app:
        for name, expected in EXPECTED.items():
            client = demo[name]
            rp = OIDCClient(
                app.test_client(),
                client["client_id"],
                client["client_secret"],
                f"{client['url']}/callback",
            )
            tokens = rp.tokens_for(
                family["identifier"], family["password"], scope=expected["scope"]
            )
            id_token = rp.id_token_claims(tokens["id_token"])
            userinfo = rp.userinfo(tokens["access_token"]).get_json()

            assert set(userinfo) == expected["claims"], name
            assert set(id_token) - ID_TOKEN_ONLY == expected["claims"], name
            assert [c["given_name"] for c in userinfo["children"]] == expected["children"], name
            text = json.dumps([id_token, userinfo])
            for birthdate in ("2016-02-14", "14/02/2016", "2018-09-03", "2013-05-21"):
                assert birthdate not in text
            seen_children[name] = [child["sub"] for child in userinfo["children"]]
    # The canteen is pairwise: its child ids are not the school references the LSU sees.
    assert not set(seen_children["canteen"]) & set(seen_children["lsu"])
