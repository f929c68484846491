"""The security headers every answer carries, fixed, so built once (idp.web_security sets them
on Flask's answers, idp.oidc.userinfo_fast on the ones it gives before Flask).

A Content-Security-Policy, no framing (clickjacking of the sign-in page), no MIME sniffing, a
same-origin referrer; HSTS under an https issuer, on requests that came over https. No CSP
form-action: browsers apply it to the redirect chain after the sign-in form, which ends at each
teleservice's own address.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Permissions-Policy", "browsing-topics=()"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31556926; includeSubDomains")
_WITH_HSTS = (*SECURITY_HEADERS, HSTS)


def for_answer(over_https: bool) -> tuple[tuple[str, str], ...]:
    """The security headers of an answer: HSTS too when it goes out over https under an https
    issuer (the caller knows both)."""
    return _WITH_HSTS if over_https else SECURITY_HEADERS
