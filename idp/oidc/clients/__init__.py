"""The client registry: the relying teleservices, whoever registers them.

``registry`` adds, finds, lists and removes clients and makes their secrets (`idp clients …`);
``metadata`` checks a client's metadata one way for every door; ``registration`` holds the rules
of registration by API (initial and registration access tokens, RFC 7591/7592) and ``views`` its
endpoints at ``/register``; ``cache`` keeps them per process for the hot endpoints. Every
refusal is a ``ClientError``, whose message says what and why.
"""

from __future__ import annotations


class ClientError(ValueError):
    """A client request that can't be carried out; the message says which field and why."""
