"""The fake Rent Manager server, on a free loopback port in a thread of the test process, and a
connection of installer A to it."""

from __future__ import annotations

import pytest

from rentmanager.fake import seed as seeds
from rentmanager.fake import serve
from rentmanager.models import Connection, SyncedProperty


def rm_seed() -> dict:
    """3 properties of 6 units (3 pages of 2) and 20 tenants with current leases; the first
    property is named like one of installer A's communities."""
    data = seeds.generate(3, 18, 20)
    data["Properties"][0]["Name"] = "Alpha Gardens"
    return data


@pytest.fixture
def fake_rm(settings):
    settings.SMARTPLUS_RENTMANAGER_PAGE_SIZE = 2
    settings.SMARTPLUS_RENTMANAGER_BACKOFF = 0.001
    settings.SMARTPLUS_RENTMANAGER_RETRIES = 2
    settings.SMARTPLUS_RENTMANAGER_TIMEOUT = 2.0
    server = serve(rm_seed())
    try:
        yield server
    finally:
        server.stop()


def link(installer, fake, property_ids=(1, 2, 3)) -> Connection:
    connection = Connection(installer=installer, base_url=fake.url, username="smartplus")
    connection.set_password("rm-secret")
    connection.save()
    names = {p["PropertyID"]: p["Name"] for p in fake.data["Properties"]}
    for pid in property_ids:
        SyncedProperty.objects.create(connection=connection, rm_id=pid, name=names[pid])
    return connection
