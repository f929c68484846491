"""Real headless Chromium (Debian's package), driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
# axe-core from its npm package (`make axe`), evaluated in the page through the DevTools
# protocol, which the page's CSP does not govern.
AXE = Path(os.environ.get("IDP_AXE_JS", ROOT / ".cache/axe/node_modules/axe-core/axe.min.js"))
AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
  return result.violations.map(
    v => `${v.id}: ${v.help} at ${v.nodes.map(n => n.target).join(", ")}`);
}"""
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


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("IDP_TEST_REQUIRE_SERVICES"):
            pytest.fail(f"{AXE} is missing (make axe)")
        pytest.skip(f"{AXE} is missing (make axe)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page, axe_source: str) -> list[str]:
    """WCAG 2.1 A and AA violations axe-core finds on the page where it stands."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate(AXE_RUN)
