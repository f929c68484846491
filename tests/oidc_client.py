"""A relying party for tests, driving the code flow through Flask's test client as a browser.

Like a real teleservice, it finds every endpoint from the discovery document (docs/contract.md
§3) and checks ID tokens against the published JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

DISCOVERY = "/.well-known/openid-configuration"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


@dataclass
class OIDCClient:
    browser: object
    client_id: str
    client_secret: str | None
    redirect_uri: str
    state: str = ""
    nonce: str = ""
    verifier: str = ""
    last: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def endpoint(self, name: str) -> str:
        """The path of an endpoint, read from discovery."""
        if not self.metadata:
            self.metadata = self.browser.get(DISCOVERY).get_json()
        return urlsplit(self.metadata[name]).path

    def params(self, **overrides) -> dict:
        """A fresh, valid authorization request; None in overrides drops a parameter."""
        self.verifier = secrets.token_urlsafe(48)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile email children",
            "state": secrets.token_urlsafe(12),
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": s256(self.verifier),
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        self.state, self.nonce = params.get("state") or "", params.get("nonce") or ""
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, **overrides):
        query = self.params(**overrides)
        return self.browser.get(self.endpoint("authorization_endpoint"), query_string=query)

    def sign_in(self, identifier: str, password: str, path: str = "/login"):
        page = self.browser.get(path)
        return self.browser.post(
            "/login",
            data={
                "identifier": identifier,
                "password": password,
                "csrf_token": csrf_token(page.get_data(as_text=True)),
                **({"fresh": "1"} if "fresh=1" in path else {}),
            },
        )

    def follow(self, response, hops: int = 10):
        """Follow redirects inside the provider; stop at the first one that leaves it."""
        for _ in range(hops):
            if response.status_code not in (302, 303) or response.location.startswith("http"):
                return response
            response = self.browser.get(response.location)
        raise AssertionError("too many redirects")

    def code_for(self, identifier: str, password: str, **overrides) -> str:
        """The whole front channel: authorize, sign in, come back with a code."""
        response = self.authorize(**overrides)
        if response.status_code == 302 and "/login" in response.location:
            response = self.follow(self.sign_in(identifier, password, response.location))
        self.last = query_of(response.location)
        assert "code" in self.last, f"no code: {response.status_code} {response.location}"
        return self.last["code"]

    def exchange(self, code: str, verifier: str | None = None, basic: bool = True, **extra):
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier if verifier is not None else self.verifier,
            **extra,
        }
        return self.token_request(data, basic)

    def refresh(self, refresh_token: str, basic: bool = True):
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.token_request(data, basic)

    def token_request(self, data: dict, basic: bool = True):
        return self.authenticated_post("token_endpoint", data, basic)

    def revoke(self, token: str, hint: str | None = None, basic: bool = True):
        data = {"token": token, "token_type_hint": hint}
        return self.authenticated_post("revocation_endpoint", data, basic)

    def authenticated_post(self, endpoint: str, data: dict, basic: bool = True):
        """client_secret_basic, client_secret_post, or a public client's bare client_id."""
        data = {k: v for k, v in data.items() if v is not None}
        headers = {}
        if self.client_secret and basic:
            headers = basic_auth(self.client_id, self.client_secret)
        else:
            data["client_id"] = self.client_id
            if self.client_secret:
                data["client_secret"] = self.client_secret
        return self.browser.post(self.endpoint(endpoint), data=data, headers=headers)

    def userinfo(self, access_token: str | None, method: str = "GET"):
        headers = bearer(access_token) if access_token else {}
        return self.browser.open(self.endpoint("userinfo_endpoint"), method=method, headers=headers)

    def tokens_for(self, identifier: str, password: str, **overrides) -> dict:
        response = self.exchange(self.code_for(identifier, password, **overrides))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def jwks(self) -> dict:
        return self.browser.get(self.endpoint("jwks_uri")).get_json()

    def id_token_claims(self, id_token: str, algorithms=("RS256", "ES256")) -> dict:
        """Verified against the published JWKS, with iss, aud and nonce checked."""
        claims = jwt.decode(id_token, KeySet.import_key_set(self.jwks()), list(algorithms)).claims
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.metadata["issuer"]},
            aud={"essential": True, "value": self.client_id},
            nonce={"essential": True, "value": self.nonce},
        ).validate(claims)
        return claims

    def claims_for(self, identifier: str, password: str, **overrides) -> dict:
        return self.id_token_claims(self.tokens_for(identifier, password, **overrides)["id_token"])


def press_link(browser, path: str):
    """Open a mailed action link as a parent does: the page, then its one button (a POST back to
    the same address). A page without the button (a link problem) is returned as it is."""
    page = browser.get(path)
    html = page.get_data(as_text=True)
    if page.status_code != 200 or 'data-action="confirm-link"' not in html:
        return page
    return browser.post(path, data={"csrf_token": csrf_token(html)})
