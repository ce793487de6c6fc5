"""Door devices get the credentials that may open them when they are added, when their relays,
type or buildings change, when an apartment moves, and after being offline (one command, the
latest list)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from access import services
from access.choices import CredentialKind
from access.models import DeviceUsers
from devices import services as device_services
from devices.choices import CommandKind, CommandStatus
from devices.models import DeviceCommand
from residents import services as resident_services
from tests.devices.deviceapi import FakeDevice
from tests.factories import build_world, make_apartment, make_building, make_device

pytestmark = pytest.mark.django_db


def pin(code="1234"):
    return {"kind": CredentialKind.PIN, "code": code}


def queued(device):
    return DeviceCommand.objects.filter(device=device, kind=CommandKind.USERS, status=CommandStatus.QUEUED)


def pins(device) -> list[str]:
    return [u["PrivatePIN"] for u in services.device_users_payload(device_id=device.pk)["users"]]


@pytest.fixture
def w():
    return build_world()


def test_a_door_added_to_a_community_with_credentials_is_queued_its_list(w):
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin("2468"))
    side_gate = make_device(w.community_a, "Side Gate")
    assert DeviceUsers.objects.get(device=side_gate).version_wanted == 1
    assert queued(side_gate).count() == 1
    assert pins(side_gate) == ["2468"]
    # Another installer's new door in a community without credentials is not asked anything.
    other = make_device(w.community_b, "Bravo Side Gate", building=w.building_b)
    assert not queued(other).exists()
    assert not DeviceUsers.objects.filter(device=other).exists()


def test_a_relay_change_queues_the_door_its_shorter_list(w):
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin("2468"))
    assert pins(w.device_a) == ["2468"]
    before = DeviceUsers.objects.get(device=w.device_a).version_wanted
    device_services.device_update(
        actor=w.installer_a,
        device=w.device_a,
        mac=w.device_a.mac_address.mac,
        fields={"name": w.device_a.name},
        relays=[{"enabled": True, "name": "Door", "access_methods": ["rf_card"]}],
    )
    assert DeviceUsers.objects.get(device=w.device_a).version_wanted == before + 1
    assert pins(w.device_a) == []
    # A rename only asks nothing more of the door.
    device_services.device_update(
        actor=w.installer_a,
        device=w.device_a,
        mac=w.device_a.mac_address.mac,
        fields={"name": "Renamed Gate"},
        relays=[{"enabled": True, "name": "Door", "access_methods": ["rf_card"]}],
    )
    assert DeviceUsers.objects.get(device=w.device_a).version_wanted == before + 1


def test_an_apartment_moved_to_another_building_moves_its_credentials_between_building_doors(w):
    old_door = make_device(w.community_a, "Alpha Block Door", building=w.building_a)
    beta = make_building(w.community_a, "Beta Block")
    new_door = make_device(w.community_a, "Beta Block Door", building=beta)
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin("1357"))
    assert (pins(old_door), pins(new_door)) == (["1357"], [])
    resident_services.apartment_update(
        actor=w.installer_a, apartment=w.apartment_a, building=beta, fields={}, resident=None
    )
    assert queued(new_door).count() == 1
    assert DeviceUsers.objects.get(device=old_door).version_wanted == 2
    assert (pins(old_door), pins(new_door)) == ([], ["1357"])


def test_an_offline_door_catches_up_with_one_command_for_the_latest_list(w):
    door = FakeDevice(w.device_a.mac_address.mac)
    assert door.register().status_code == 201
    # Offline (no heartbeat) while three changes are made: one command waits.
    first = services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin("1111"))
    services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=pin("2222"))
    services.credential_delete(actor=w.installer_a, credential_id=first.pk)
    assert queued(w.device_a).count() == 1
    (command,) = door.commands()
    assert command["kind"] == CommandKind.USERS
    listed = door.client.get(urlsplit(command["url"]).path, **door.auth()).json()
    assert (listed["version"], [u["PrivatePIN"] for u in listed["users"]]) == (3, ["2222"])
    assert door.result(command["id"], "done").status_code == 200
    state = DeviceUsers.objects.get(device=w.device_a)
    assert (state.version_acknowledged, state.in_sync) == (3, True)
    assert door.commands() == []


def test_a_new_apartments_own_door_gets_its_personal_credentials(w):
    apartment = make_apartment(w.building_a, "102", resident={"first_name": "Ann", "last_name": "Lee"})
    resident = apartment.residents.get()
    services.credential_create(
        actor=w.installer_a, resident_id=resident.pk, fields={**pin("8642"), "scope": "private"}
    )
    own = make_device(
        w.community_a, "APT 102 Door", building=w.building_a, apartment=apartment, device_type=1
    )
    assert queued(own).count() == 1
    assert pins(own) == ["8642"]


def test_a_factory_reset_door_gets_its_user_list_again_when_it_registers_again(w):
    from devices import maintenance

    door = FakeDevice(w.device_a.mac_address.mac)
    assert door.register().status_code == 201
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin("1111"))
    (command,) = door.commands()
    door.client.get(urlsplit(command["url"]).path, **door.auth())
    assert door.result(command["id"], "done").status_code == 200
    assert DeviceUsers.objects.get(device=w.device_a).in_sync

    reset = maintenance.device_reset(actor=w.installer_a, device=w.device_a)
    assert door.result(reset.pk, "done").status_code == 200
    door.claim_token = "a-new-claim-after-the-reset"  # the reset device forgot everything
    assert door.register(configure=False).status_code == 201
    autop, users = door.commands()
    assert (autop["kind"], users["kind"]) == (CommandKind.AUTOP, CommandKind.USERS)
    state = DeviceUsers.objects.get(device=w.device_a)
    assert not state.in_sync and state.version_wanted == 2
    listed = door.client.get(urlsplit(users["url"]).path, **door.auth()).json()
    assert (listed["version"], [u["PrivatePIN"] for u in listed["users"]]) == (2, ["1111"])
    assert door.result(users["id"], "done").status_code == 200
    assert DeviceUsers.objects.get(device=w.device_a).in_sync
