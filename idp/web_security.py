"""Browser-facing defences besides CSRF tokens (issue 10 §6, §7), and the security headers.

- Every answer carries the same security headers (idp.security_headers), built once at start:
  Flask-Talisman resolved its options on each request, ~0.2 ms of every token and userinfo
  call (issue 14). No redirect to https here: TLS ends at the load balancer, which redirects.

- Every state-changing request from a browser comes from our own origin: `Sec-Fetch-Site`
  (or, from older browsers, `Origin`) naming another site is refused with 403 (OWASP's defence
  in depth). The OAuth endpoints are exempt: teleservices post to them from their own sites.
- Pages for a signed-in parent, and the redirect carrying an authorization code, are never
  stored by a cache (`Cache-Control: no-store`).
- Under an https issuer, the session cookie is a `__Host-` cookie (Secure, Path=/, no Domain):
  no sibling host can set or shadow it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request

from idp import security_headers
from idp.errors import error_response

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# Called by teleservices' own sites or servers, cross-site by design; each has its own checks.
CROSS_SITE_ENDPOINTS = (
    "oidc.authorize",
    "oidc.token",
    "oidc.userinfo",
    "oidc.revoke",
    "oidc.end_session",
)
PRIVATE_BLUEPRINTS = ("portal", "account", "activation")
ALLOWED_FETCH_SITES = ("same-origin", "none")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def refuse_other_sites() -> Response | None:
    if request.method not in STATE_CHANGING:
        return None
    if request.endpoint in CROSS_SITE_ENDPOINTS or request.blueprint == "registration":
        return None
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return None if fetch_site in ALLOWED_FETCH_SITES else error_response(403)
    origin = request.headers.get("Origin")
    if origin is None:
        return None  # not a browser, or one that says nothing: the CSRF token decides
    ours = {_origin(current_app.config["ISSUER"]), _origin(request.host_url)}
    return None if origin.lower() in ours else error_response(403)


def no_store(response: Response) -> Response:
    carries_code = response.status_code in (302, 303) and "code=" in (response.location or "")
    private = request.blueprint in PRIVATE_BLUEPRINTS or g.get("login_session") is not None
    if carries_code or private:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _security_headers(https_issuer: bool):
    """The after-request hook that sets the fixed headers (and HSTS when it applies)."""

    def set_security_headers(response: Response) -> Response:
        over_https = https_issuer and (
            request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
        )
        headers = response.headers
        for name, value in security_headers.for_answer(over_https):
            headers[name] = value
        return response

    return set_security_headers


def init_app(app: Flask) -> None:
    app.after_request(_security_headers(app.config["ISSUER"].startswith("https://")))
    if app.config["ISSUER"].startswith("https://"):
        app.config["SESSION_COOKIE_NAME"] = "__Host-idp_session"
        app.config["SESSION_COOKIE_PATH"] = "/"
        app.config["SESSION_COOKIE_DOMAIN"] = None
    app.before_request(refuse_other_sites)
    app.after_request(no_store)
