"""The outbox: deliveries that must not be lost (mails, logout tokens), queued in the database.

``enqueue(kind, payload)`` adds a row to ``db.session`` in the caller's transaction: it exists
if and only if the change it announces is committed. Senders deliver the due rows: the sender
thread of each `idp serve` process (``start_sender``), woken as soon as a transaction that
queued something commits, and any number of `idp worker` processes. A handler registered with
``@handler(kind)`` does the delivery itself (SMTP, an HTTP POST); it raises to be retried.

Claims: a sender takes a due row with one conditional update (``… WHERE state = 'pending' AND
(claimed_until IS NULL OR claimed_until < now)``; on PostgreSQL the candidates are first picked
with ``FOR UPDATE SKIP LOCKED``) that sets a lease and counts the attempt. Only the sender whose
claim id is on the row can mark it, so two senders never deliver one row twice. A sender that
dies during a delivery leaves its lease to expire (``LEASE``): the row is then tried again,
which is the one case where a delivery can happen twice (rather than never).

Failures: the next attempt waits ``base × 2^(attempts-1)`` seconds (capped at an hour); after
``MAX_ATTEMPTS``, or when the handler raises ``GiveUp``, the row is ``failed``; a handler that
finds the delivery no longer wanted raises ``Drop`` (``dropped``, not a failure). Only the
exception's class (and its ``reason`` attribute, a short non-secret word, if any) is recorded,
never its text, which may quote the payload. A row's payload is emptied once it is sent or has
failed: a mail may carry a live link.
"""

from idp.outbox.delivery import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    LEASE,
    MAX_ATTEMPTS,
    POLL_INTERVAL,
    Drop,
    GiveUp,
    Handler,
    backoff,
    counts,
    deliver_due,
    drain,
    enqueue,
    handler,
    purge,
)
from idp.outbox.sender import Sender, start_sender, wake

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "LEASE",
    "MAX_ATTEMPTS",
    "POLL_INTERVAL",
    "Drop",
    "GiveUp",
    "Handler",
    "Sender",
    "backoff",
    "counts",
    "deliver_due",
    "drain",
    "enqueue",
    "handler",
    "purge",
    "start_sender",
    "wake",
]
