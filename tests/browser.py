"""Headless Chromium for the browser tests: Debian's package driven by Playwright (no browser is downloaded).

The tests skip, saying why, when /usr/bin/chromium is absent. Screenshots go to
``$FORMSERVER_SCREENSHOTS`` (or a temporary folder) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .web_fixtures import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium fonts-thai-tlwg)"
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("FORMSERVER_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser, base_url):
    """A Thai browser page on the module's server (``base_url``), failing the test on any Content Security
    Policy violation: no inline script or style anywhere."""
    context = browser.new_context(base_url=base_url, locale="th-TH", accept_downloads=True)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and page.csp_violations.append(message.text))
    yield page
    assert page.csp_violations == [], page.csp_violations
    context.close()


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"].primary')
    page.wait_for_load_state()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
