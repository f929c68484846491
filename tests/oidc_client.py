"""A relying party for tests, driving the code flow through Flask's test client as a browser."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from flask import current_app
from joserfc import jwt
from joserfc.jwk import KeySet

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

    def params(self, **overrides) -> dict:
        """A fresh, valid authorization request; None in overrides drops a parameter."""
        self.state = secrets.token_urlsafe(12)
        self.nonce = secrets.token_urlsafe(12)
        self.verifier = secrets.token_urlsafe(48)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile email children",
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": s256(self.verifier),
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        self.state, self.nonce = params.get("state") or "", params.get("nonce") or ""
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, **overrides):
        return self.browser.get("/authorize", query_string=self.params(**overrides))

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
        return self.token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, basic
        )

    def token_request(self, data: dict, basic: bool = True):
        data = {k: v for k, v in data.items() if v is not None}
        headers = {}
        if self.client_secret and basic:
            raw = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        else:
            data["client_id"] = self.client_id
            if self.client_secret:
                data["client_secret"] = self.client_secret
        return self.browser.post("/token", data=data, headers=headers)

    def tokens_for(self, identifier: str, password: str, **overrides) -> dict:
        response = self.exchange(self.code_for(identifier, password, **overrides))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def id_token_claims(self, id_token: str) -> dict:
        """Verified against the provider's published JWKS, like a real relying party."""
        jwks = KeySet.import_key_set(self.browser.get("/jwks.json").get_json())
        token = jwt.decode(id_token, jwks, algorithms=["RS256", "ES256"])
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": current_app.config["ISSUER"]},
            aud={"essential": True, "value": self.client_id},
            nonce={"essential": True, "value": self.nonce},
        )
        registry.validate(token.claims)
        return token.claims
