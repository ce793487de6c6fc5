"""Root pytest configuration: real PostgreSQL and Redis (smartplus.settings.test), Playwright on
Debian's Chromium, and the shared fixture world."""

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits live in the (Redis) cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def world(db):
    from tests.factories import build_world

    return build_world()


@pytest.fixture
def granted_world(db):
    from tests.factories import build_world

    return build_world(granted=True)
