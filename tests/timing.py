"""No enumeration, measured: two cases (an account that exists, one that doesn't) must get the
same page, byte for byte once CSRF tokens are masked, and median times within 20%."""

from __future__ import annotations

import gc
import html
import random
import statistics
from collections.abc import Callable

import pytest

from tests.oidc_client import CSRF

REPEATS = 15
ROUNDS = 3  # a shared machine is noisy: a real leak shows in every round, noise only in some
TOLERANCE = 1.2

# One request of a case: (seconds it took as the client saw it, (status, masked page)).
Send = Callable[[str], tuple[float, tuple[int, str]]]


def masked(response, *secrets: str) -> tuple[int, str]:
    """Status and page with its CSRF tokens (and any of ``secrets``, e.g. what was typed) masked."""
    page = CSRF.sub(
        'name="csrf_token" value="CSRF"', html.unescape(response.get_data(as_text=True))
    )
    for secret in secrets:
        page = page.replace(secret, "TYPED")
    return response.status_code, page


def _round(send: Send, cases: tuple[str, str]) -> tuple[dict[str, set], list[float]]:
    pages: dict[str, set] = {case: set() for case in cases}
    times: dict[str, list[float]] = {case: [] for case in cases}
    gc.collect()
    gc.disable()
    try:
        for _ in range(REPEATS):
            for case in random.sample(cases, len(cases)):  # neither case always goes first
                elapsed, page = send(case)
                times[case].append(elapsed)
                pages[case].add(page)
    finally:
        gc.enable()
    return pages, [statistics.median(times[case]) for case in cases]


def assert_same_pages_and_timing(send: Send, existing: str, missing: str) -> None:
    cases = (existing, missing)
    for case in cases:  # warm-up: the first requests pay for imports and caches
        send(case)
    seen = []
    for _ in range(ROUNDS):
        pages, medians = _round(send, cases)
        assert pages[existing] == pages[missing], "the pages differ"
        assert len(pages[existing]) == 1, "a case got different pages"
        seen.append(medians)
        if max(medians) <= min(medians) * TOLERANCE:
            return
    pytest.fail(f"median times (existing, missing) differ by more than 20% each time: {seen}")
