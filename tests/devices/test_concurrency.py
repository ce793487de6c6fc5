"""An installer's staff binding the same MAC in two communities at once: one device gets it.

Real PostgreSQL transactions on two connections (threads). The two communities have their own
locks, so only the lock on the library row serialises them: the second transaction waits and
then sees the first device. Without that lock the one-to-one constraint would still refuse the
second, but as a server error instead of a message at the field.
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

    def bind(name: str, community) -> None:
        try:
            barrier.wait()
            services.device_create(
                actor=world.installer_a,
                community=community,
                mac=entry.mac,
                fields={"device_type": DeviceType.MULTI_TENANT_DOOR_PHONE, "name": name},
                relays=[],
            )
            outcomes.append("bound")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.message_dict["mac"]))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=bind, args=("North Gate", world.community_a)),
        threading.Thread(target=bind, args=("South Gate", world.community_a2)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert len(outcomes) == 2 and outcomes.count("bound") == 1
    refused = next(o for o in outcomes if o != "bound")
    assert refused.startswith(f"{entry.mac} is already bound to “")
    assert Device.objects.filter(mac_address=entry).count() == 1
    world.community_a.refresh_from_db()
    world.community_a2.refresh_from_db()
    # Alpha Gate, plus the one that won in whichever community.
    assert world.community_a.device_count + world.community_a2.device_count == 2
