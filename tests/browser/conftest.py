"""Real headless Chromium (Debian's package), driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network: no background connections, no first-run work.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    if not shutil.which(CHROMIUM):
        if os.environ.get("IDP_TEST_REQUIRE_SERVICES"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium) -> Iterator:
    """A fresh browser profile the size of a phone, in French."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    yield context.new_page()
    context.close()
