"""Work done after the response: look-ups whose timing must tell the visitor nothing.

The self-help forms answer the same page at once whether or not an account matches; the look-up
runs here, on a small pool of threads in the same process, and queues the mail, if any, in the
outbox (idp.outbox), whose sender hands it to the SMTP server. A job queued during a request
starts when the server closes the response, after sending it (WSGI calls `close()`), so that it
does not compete with the response for the interpreter: the visitor's timing can't tell what the
job found. Flask's test client closes a response only when asked: tests call `response.close()`
(or pass `buffered=True`).

A job gets its own app context and a request context built on the issuer (so
`url_for(_external=True)` gives public links), with the client address and the locale of the
request that queued it. A failing job is logged, never raised into a request. The threads start
on first use (after a server forks) and the interpreter waits for them at exit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from flask import Flask, after_this_request, has_request_context, request
from flask_babel import force_locale, get_locale
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="idp-job")
_pending: set[Future] = set()
_lock = threading.Lock()


def run_later(app: Flask, fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` in ``app``'s contexts, once the current response is sent, if any."""
    if not has_request_context():
        _submit((app, "", "fr", fn, args))
        return
    job = (app, request.remote_addr or "", str(get_locale() or "fr"), fn, args)

    @after_this_request
    def start_when_sent(response: Response) -> Response:
        response.call_on_close(lambda: _submit(job))
        return response


def _submit(job: tuple) -> None:
    future = _executor.submit(_run, *job)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _run(app: Flask, remote_addr: str, locale: str, fn: Callable[..., Any], args: tuple) -> None:
    try:
        context = app.test_request_context(
            base_url=app.config["ISSUER"], environ_base={"REMOTE_ADDR": remote_addr}
        )
        with context, force_locale(locale):
            fn(*args)
    except Exception:
        log.exception("background job %s failed", getattr(fn, "__qualname__", fn))


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def wait_for_jobs(timeout: float = 30.0) -> bool:
    """Wait for every queued job (tests, shutdown); False if some still run after ``timeout``."""
    with _lock:
        pending = list(_pending)
    _done, not_done = wait(pending, timeout=timeout)
    return not not_done
