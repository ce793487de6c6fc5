"""`make demo` links the demo installer to the fake Rent Manager it starts; Sync now works there."""

from __future__ import annotations

import pytest

from demo.seed import seed_rentmanager
from rentmanager.choices import RunStatus
from rentmanager.fake import seed as seeds
from rentmanager.fake import serve
from rentmanager.models import Connection
from rentmanager.sync import run_sync


@pytest.mark.django_db
def test_the_demo_installer_is_linked_to_the_fake(world, settings):
    settings.SMARTPLUS_FAKE_RENTMANAGER_GENERATE = "2,20,30"
    server = serve(seeds.generate(2, 20, 30))
    try:
        settings.SMARTPLUS_FAKE_RENTMANAGER_PORT = server.port
        seed_rentmanager(installer=world.installer_b)
        seed_rentmanager(installer=world.installer_b)  # seeding twice links once
        connection = Connection.objects.get(installer=world.installer_b)
        assert connection.properties.count() == 2
        run = run_sync(connection_id=connection.pk)
        assert run.status == RunStatus.SUCCESS, run.message
    finally:
        server.stop()
