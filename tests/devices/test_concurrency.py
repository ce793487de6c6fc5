"""Two installers' staff binding the same MAC at the same moment: exactly one device gets it.

Real PostgreSQL transactions on two connections (threads). The service locks the library row,
so the second transaction waits and then sees the first device; without the lock the one-to-one
constraint would still refuse the second, but as a server error instead of a message at the field.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from devices import services
from devices.choices import DeviceType
from devices.models import Device
from tests.factories import build_world, make_mac

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_binds_of_one_mac_give_one_device_and_one_field_error():
    world = build_world()
    entry = make_mac(world.installer_a)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def bind(name: str) -> None:
        try:
            barrier.wait()
            services.device_create(
                actor=world.installer_a,
                community=world.community_a,
                mac=entry.mac,
                fields={"device_type": DeviceType.MULTI_TENANT_DOOR_PHONE, "name": name},
                relays=[],
            )
            outcomes.append("bound")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.message_dict["mac"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=bind, args=(n,)) for n in ("North Gate", "South Gate")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert len(outcomes) == 2 and outcomes.count("bound") == 1
    refused = next(o for o in outcomes if o != "bound")
    assert refused.startswith(f"{entry.mac} is already bound to “")
    assert Device.objects.filter(mac_address=entry).count() == 1
    world.community_a.refresh_from_db()
    assert world.community_a.device_count == 2  # Alpha Gate and the one that won
