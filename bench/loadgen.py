"""The project's load driver for OpenID Connect providers (asyncio + aiohttp).

A virtual user is a browser (its own cookie jar) and a teleservice back end (no cookies). Each
one signs in once, untimed; then each phase runs every user in a loop for a fixed time:

- ``sso``: authorize with the live session (PKCE S256, state, nonce) → 302 with a code → token
  (client_secret_basic; the ID token must be RS256 with our nonce, iss and aud) → userinfo (the
  same ``sub``). One operation is the whole round trip; the token request is timed apart too.
- ``refresh``: each user spends its own refresh token and keeps the new one.
- ``userinfo``: every user calls userinfo with one shared access token.
- ``login``: our provider only: the sign-in form POSTed with the right password.

The same code drives this provider and node-oidc-provider (``bench/node/``), so the figures of one
run can be compared as ratios.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import aiohttp

HIDDEN = re.compile(r"<input[^>]*>", re.I)
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]*)"', re.I)
REDIRECTS = (301, 302, 303, 307, 308)


class Failure(Exception):
    """One operation went wrong: counted as an error, the loop goes on."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _jwt_part(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@dataclass
class Target:
    """One provider as the driver sees it."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str
    form_login: bool  # our hosted login form; False: the provider signs in by redirects alone
    credentials: list[tuple[str, str]] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def basic(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass
class User:
    number: int
    browser: aiohttp.ClientSession
    backend: aiohttp.ClientSession
    access_token: str = ""
    refresh_token: str = ""
    sub: str = ""
    csrf: str = ""


@dataclass
class Phase:
    """What one phase measured: latencies (s) of whole operations and of token requests."""

    name: str
    users: int
    seconds: float
    latencies: list[float]
    token_latencies: list[float]
    errors: int
    first_error: str | None
    cpu_ms_per_op: float | None = None  # of the server's processes, when they were given

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
    return ordered[rank]


class Driver:
    def __init__(self, target: Target) -> None:
        self.t = target
        self.token_times: list[float] = []

    async def discover(self, session: aiohttp.ClientSession) -> None:
        url = self.t.issuer + "/.well-known/openid-configuration"
        async with session.get(url) as response:
            response.raise_for_status()
            self.t.meta = json.loads(await response.read())

    def _authorize_url(self) -> tuple[str, dict, str]:
        verifier = _b64(secrets.token_bytes(32))
        query = {
            "response_type": "code",
            "client_id": self.t.client_id,
            "redirect_uri": self.t.redirect_uri,
            "scope": self.t.scope,
            "state": _b64(secrets.token_bytes(12)),
            "nonce": _b64(secrets.token_bytes(12)),
            "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
        return self.t.meta["authorization_endpoint"] + "?" + urlencode(query), query, verifier

    async def _walk(self, user: User, method: str, url: str, data=None) -> tuple[str | None, str]:
        """Follow redirects until one leads to the redirect URI (returned) or a page (its HTML)."""
        for _ in range(12):
            async with user.browser.request(method, url, data=data, allow_redirects=False) as r:
                body = await r.text()
                if r.status in REDIRECTS:
                    url = urljoin(url, r.headers["Location"])
                    if url.startswith(self.t.redirect_uri):
                        return url, ""
                    method, data = "GET", None
                    continue
                if r.status != 200:
                    raise Failure(f"login: HTTP {r.status} at {urlsplit(url).path}")
                return None, body
        raise Failure("login: too many redirects")

    @staticmethod
    def _form_fields(page: str) -> dict[str, str]:
        fields = {}
        for tag in HIDDEN.findall(page):
            attributes = dict(ATTRIBUTE.findall(tag))
            if attributes.get("type") == "hidden" and "name" in attributes:
                fields[attributes["name"]] = attributes.get("value", "")
        return fields

    async def sign_in(self, user: User) -> None:
        """The untimed first sign-in; leaves tokens for the refresh and userinfo phases."""
        url, query, verifier = self._authorize_url()
        callback, page = await self._walk(user, "GET", url)
        if callback is None and self.t.form_login:
            identifier, password = self.t.credentials[user.number % len(self.t.credentials)]
            fields = self._form_fields(page)
            user.csrf = fields.get("csrf_token", "")
            action = FORM_ACTION.search(page)
            post_url = urljoin(str(self.t.issuer) + "/login", action.group(1) if action else "")
            fields.update(identifier=identifier, password=password)
            callback, page = await self._walk(user, "POST", post_url, fields)
        if callback is None:
            raise Failure("login: never came back to the redirect URI")
        await self._finish(user, callback, query, verifier)

    async def _finish(self, user: User, callback: str, query: dict, verifier: str) -> None:
        answer = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
        if answer.get("state") != query["state"] or "code" not in answer:
            raise Failure(f"authorize: no code in {callback[:120]}")
        started = time.perf_counter()
        tokens = await self.token(
            user,
            {
                "grant_type": "authorization_code",
                "code": answer["code"],
                "redirect_uri": self.t.redirect_uri,
                "code_verifier": verifier,
            },
        )
        self.token_times.append(time.perf_counter() - started)
        header, claims = _jwt_part(tokens["id_token"], 0), _jwt_part(tokens["id_token"], 1)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if header.get("alg") != "RS256" or claims.get("nonce") != query["nonce"]:
            raise Failure("token: ID token not RS256 or wrong nonce")
        if claims.get("iss") != self.t.meta["issuer"] or self.t.client_id not in audiences:
            raise Failure("token: ID token iss or aud wrong")
        user.access_token, user.sub = tokens["access_token"], claims["sub"]
        user.refresh_token = tokens.get("refresh_token", user.refresh_token)
        if (await self.userinfo(user, user.access_token)).get("sub") != user.sub:
            raise Failure("userinfo: another sub than the ID token's")

    async def token(self, user: User, data: dict) -> dict:
        headers = {"Authorization": self.t.basic, "Accept": "application/json"}
        async with user.backend.post(
            self.t.meta["token_endpoint"], data=data, headers=headers
        ) as r:
            body = await r.read()
            if r.status != 200:
                raise Failure(f"token: HTTP {r.status} {body[:120]!r}")
            return json.loads(body)

    async def userinfo(self, user: User, access_token: str) -> dict:
        headers = {"Authorization": "Bearer " + access_token}
        async with user.backend.get(self.t.meta["userinfo_endpoint"], headers=headers) as r:
            body = await r.read()
            if r.status != 200:
                raise Failure(f"userinfo: HTTP {r.status} {body[:120]!r}")
            return json.loads(body)

    async def sso(self, user: User) -> None:
        url, query, verifier = self._authorize_url()
        async with user.browser.get(url, allow_redirects=False) as r:
            await r.read()
            location = r.headers.get("Location", "")
        if r.status not in REDIRECTS or not location.startswith(self.t.redirect_uri):
            raise Failure(f"authorize: HTTP {r.status} to {location[:80]} (no live session?)")
        await self._finish(user, location, query, verifier)

    async def refresh(self, user: User) -> None:
        data = {"grant_type": "refresh_token", "refresh_token": user.refresh_token}
        tokens = await self.token(user, data)
        if not tokens.get("refresh_token") or tokens["refresh_token"] == user.refresh_token:
            raise Failure("refresh: the refresh token was not rotated")
        user.refresh_token, user.access_token = tokens["refresh_token"], tokens["access_token"]

    async def password_login(self, user: User) -> None:
        """Our sign-in form, right password; a 302 onwards means it was accepted."""
        identifier, password = self.t.credentials[user.number % len(self.t.credentials)]
        data = {"identifier": identifier, "password": password, "csrf_token": user.csrf}
        url = self.t.issuer + "/login"
        async with user.browser.post(url, data=data, allow_redirects=False) as r:
            await r.read()
            if r.status != 302:
                raise Failure(f"login: HTTP {r.status}")


Operation = Callable[[User], Awaitable[None]]


async def run_phase(
    name: str, users: list[User], operation: Operation, seconds: float, driver: Driver
) -> Phase:
    latencies: list[float] = []
    errors, first_error = 0, None
    driver.token_times = []
    started = time.perf_counter()
    stop = started + seconds

    async def loop(user: User) -> None:
        nonlocal errors, first_error
        while time.perf_counter() < stop:
            begun = time.perf_counter()
            try:
                try:
                    await operation(user)
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                    # A keep-alive connection the server closed while it sat idle (between
                    # phases): a browser sends the request again on a new one, so does this.
                    begun = time.perf_counter()
                    await operation(user)
            except (TimeoutError, Failure, aiohttp.ClientError, KeyError) as error:
                errors += 1
                first_error = first_error or f"{type(error).__name__}: {error}"
                if errors > 200:
                    raise SystemExit(f"{name}: too many errors; first: {first_error}") from None
                continue
            latencies.append(time.perf_counter() - begun)

    await asyncio.gather(*(loop(user) for user in users))
    elapsed = time.perf_counter() - started
    return Phase(name, len(users), elapsed, latencies, driver.token_times, errors, first_error)


async def open_users(count: int) -> list[User]:
    timeout = aiohttp.ClientTimeout(total=60)
    users = []
    for number in range(count):
        jar = aiohttp.CookieJar(unsafe=True)  # cookies from 127.0.0.1 too
        browser = aiohttp.ClientSession(cookie_jar=jar, timeout=timeout)
        backend = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), timeout=timeout)
        users.append(User(number, browser, backend))
    return users


async def close_users(users: list[User]) -> None:
    for user in users:
        await user.browser.close()
        await user.backend.close()


class CpuMeter:
    """CPU seconds (user + system, all threads) that some processes spend from now on."""

    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.start = self._total()

    def _total(self) -> float:
        total = 0
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/stat") as file:
                    fields = file.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / self.TICKS

    def per_operation(self, operations: int) -> float | None:
        """Milliseconds of CPU per operation since the meter started."""
        return (self._total() - self.start) * 1000 / operations if operations else None


async def measure(
    target: Target,
    users_count: int,
    seconds: float,
    warmup: float,
    phases: list[str],
    server_pids: Callable[[], list[int]] | None = None,
    before_phase: Callable[[str], None] | None = None,
) -> dict[str, Phase]:
    """Sign every user in, then run the phases; each is warmed up, untimed, first.

    ``server_pids`` gives the processes whose CPU each timed phase is charged; ``before_phase``
    is called as each timed phase starts (to attach a profiler, say).
    """
    driver = Driver(target)
    users = await open_users(users_count)
    try:
        await driver.discover(users[0].backend)
        await asyncio.gather(*(driver.sign_in(user) for user in users))
        shared_token = users[0].access_token
        operations: dict[str, Operation] = {
            "sso": driver.sso,
            "refresh": driver.refresh,
            "userinfo": lambda user: driver.userinfo(user, shared_token),
            "login": driver.password_login,
        }
        results = {}
        for name in phases:
            if warmup > 0:
                await run_phase(name, users, operations[name], warmup, driver)
            if before_phase is not None:
                before_phase(name)
            meter = CpuMeter(server_pids()) if server_pids else None
            phase = await run_phase(name, users, operations[name], seconds, driver)
            if meter is not None:
                phase.cpu_ms_per_op = meter.per_operation(len(phase.latencies))
            results[name] = phase
        return results
    finally:
        await close_users(users)


async def get_rate(url: str, connections: int, seconds: float) -> float:
    """GET requests per second over `connections` keep-alive connections (wrk's fallback)."""
    count = 0
    stop = time.perf_counter() + seconds
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def loop() -> None:
            nonlocal count
            while time.perf_counter() < stop:
                async with session.get(url) as response:
                    await response.read()
                    if response.status == 200:
                        count += 1

        await asyncio.gather(*(loop() for _ in range(connections)))
    return count / (time.perf_counter() - started)
