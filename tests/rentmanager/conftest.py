"""The fake Rent Manager server, on a free loopback port in a thread of the test process."""

from __future__ import annotations

import pytest

from rentmanager.fake import seed as seeds
from rentmanager.fake import serve


@pytest.fixture
def fake_rm():
    server = serve(seeds.generate(3, 12, 15))
    try:
        yield server
    finally:
        server.stop()
