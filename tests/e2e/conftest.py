"""Browser tests: headless Chromium (Playwright) against pytest-django's live_server.

Every test here is marked `e2e`. The root conftest points Playwright at Debian's Chromium and
allows ORM calls next to Playwright's event loop; `live_server` makes every test transactional.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

TIMEOUT_MS = 10_000
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A desktop window: the portal's left navigation and tables need the width.
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return page


def login(page: Page, live_server, username: str, password: str = PASSWORD) -> None:
    """Sign in through allauth's form; the caller asserts where that lands."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign In").click()


def logout(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("input[name=login]")).to_be_visible()


@pytest.fixture
def log_in(page: Page, live_server):
    """`log_in(username, password=PASSWORD)`: sign in and wait for the portal's top bar."""

    def _log_in(username: str, password: str = PASSWORD) -> Page:
        login(page, live_server, username, password)
        expect(page.get_by_test_id("role-label")).to_be_visible()
        return page

    return _log_in


@pytest.fixture
def screenshot():
    """`screenshot(page, "name.png")` saves a full-page PNG only when SMARTPLUS_SCREENSHOTS is set."""

    def _shot(page: Page, name: str) -> None:
        if not os.environ.get("SMARTPLUS_SCREENSHOTS"):
            return
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / name), full_page=True, animations="disabled")

    return _shot
