"""A code's redirect URI is the one Authlib would build (issue 14: built without re-parsing)."""

from __future__ import annotations

import pytest
from authlib.common.urls import add_params_to_uri

from idp.oidc import redirects

URIS = [
    "https://rp.example.test/callback",
    "http://localhost:5001/cb",
    "https://rp.example.test",
    "https://rp.example.test/cb?tenant=a%20b&empty=&flag",
    "https://rp.example.test/cb?",
    "https://rp.example.test/cb#frag",
    "https://rp.example.test/cb;jsessionid=1",
    "HTTPS://RP.example.test/Cb",
    "com.example.app:/oauth2redirect",
    "https://rp.example.test/é/cb",
]
PARAMS = [("code", "a-b_c"), ("state", "x y+z&=é/?")]


@pytest.mark.parametrize("uri", URIS)
def test_same_redirect_as_authlib(uri: str):
    ours = redirects.add_params(uri, PARAMS)
    assert ours == add_params_to_uri(uri, PARAMS)
    iss = [("iss", "https://idp.example.test")]
    assert redirects.add_to_query(ours, iss) == add_params_to_uri(ours, iss)
