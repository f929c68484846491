"""Parameters added to a redirect URI, as Authlib's ``add_params_to_uri`` adds them, cheaper.

Authlib parses the URI and re-encodes its whole query at each addition: twice per code (the code
and state, then RFC 9207's ``iss``), a tenth of the SSO authorization's CPU (issue 14). A
registered redirect URI rarely has a query, a fragment or path parameters; without them, and for
a query Authlib or this module encoded, appending gives the same string.
"""

from __future__ import annotations

from collections.abc import Iterable

from authlib.common.urls import add_params_to_uri, url_encode

PLAIN_SCHEMES = ("https://", "http://")  # urlparse() would lower-case any other spelling


def add_params(uri: str, params: Iterable[tuple[str, str]]) -> str:
    """``add_params_to_uri(uri, params)``, the same string, without parsing a plain URI."""
    if not uri.startswith(PLAIN_SCHEMES) or "?" in uri or "#" in uri or ";" in uri:
        return add_params_to_uri(uri, list(params))
    return uri + "?" + url_encode(params)


def add_to_query(uri: str, params: Iterable[tuple[str, str]]) -> str:
    """The same for a URI whose query Authlib or ``add_params()`` encoded (a redirect made for
    an authorization response): parsed and encoded again, such a query comes out unchanged."""
    head, _, query = uri.partition("?")
    if not uri.startswith(PLAIN_SCHEMES) or not query or "#" in uri or ";" in head:
        return add_params_to_uri(uri, list(params))
    return uri + "&" + url_encode(params)
