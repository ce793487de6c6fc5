"""Rules of devices.services: MAC binding, types per place, relays, offline solution, counters.

Every test states one rule of the spec's device forms (or ARCHITECTURE.md §5) and fails when the
rule is taken out of the service. Basic-plan rules are in tests/residents/test_basic_plan.py,
camera rules in tests/devices/test_cameras.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import override_settings
from django.utils import timezone

from communities.services import building_delete
from devices import services
from devices.choices import AccessMethod, ContactDisplay, DeviceStatus, DeviceType, Place, RelayKind
from devices.models import Device, Relay, model_for_firmware
from maclib.models import MacAddress
from residents.services import apartment_delete, community_recount
from smartplus.models import AuditLog
from tests.factories import (
    ALL_METHODS,
    build_world,
    make_apartment,
    make_building,
    make_camera,
    make_device,
    make_mac,
    next_mac,
)

pytestmark = pytest.mark.django_db

DOOR = DeviceType.MULTI_TENANT_DOOR_PHONE
MONITOR = DeviceType.INDOOR_MONITOR


@pytest.fixture
def world():
    return build_world()


def relay(name="Door", *, enabled=True, dtmf="", methods=None):
    return {"enabled": enabled, "name": name, "dtmf_code": dtmf, "access_methods": methods or []}


def add(
    world, *, mac=None, building=None, apartment=None, relays=None, security=None, buildings=None, **fields
):
    """Add a device to community_a as installer_a; fields default to a public door phone."""
    return services.device_create(
        actor=world.installer_a,
        community=world.community_a,
        building=building,
        apartment=apartment,
        mac=mac if mac is not None else make_mac(world.installer_a).mac,
        fields={"device_type": DOOR, "name": "Gate", **fields},
        relays=relays if relays is not None else [relay()],
        security_relay=security,
        buildings=buildings,
    )


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


def allow_offline(world, enabled=True):
    world.distributor_a.doorphone_offline_enabled = enabled
    world.distributor_a.save(update_fields=["doorphone_offline_enabled"])
    world.community_a.refresh_from_db()


# --- MAC library membership and binding ---------------------------------------------------------


def test_adding_binds_the_library_mac_typed_with_separators(world):
    entry = make_mac(world.installer_a, "0C1105AABB01")
    device = add(world, mac="0c:11:05-aa:bb:01")
    assert device.mac_address == entry
    entry.refresh_from_db()
    assert entry.device == device


def test_mac_must_be_in_the_installers_library(world):
    with pytest.raises(ValidationError) as exc:
        add(world, mac="0C1105DEAD01")
    assert "not in your MAC library" in errors_of(exc)["mac"][0]
    assert not Device.objects.filter(name="Gate").exists()


def test_mac_of_another_installer_reads_as_unknown_and_cannot_be_bound(world):
    free_b = make_mac(world.installer_b)
    for mac in (free_b.mac, world.mac_b.mac):
        with pytest.raises(ValidationError) as exc:
            add(world, mac=mac)
        message = errors_of(exc)["mac"][0]
        assert message == f"{mac} is not in your MAC library. Add it in the MAC Library module first."
        assert "Bravo" not in message and "inst_b" not in message
    assert not hasattr(MacAddress.objects.get(pk=free_b.pk), "device")


def test_mac_bound_to_another_device_is_refused_naming_it(world):
    with pytest.raises(ValidationError) as exc:
        add(world, mac=world.mac_a.mac)
    assert errors_of(exc)["mac"] == [
        f"{world.mac_a.mac} is already bound to “Alpha Gate” (Alpha Gardens, Public Area)."
    ]


def test_invalid_mac_is_a_field_error(world):
    with pytest.raises(ValidationError) as exc:
        add(world, mac="0C11-05")
    assert "12 hex digits" in errors_of(exc)["mac"][0]


def test_deleting_a_device_unbinds_its_mac_which_stays_in_the_library(world):
    mac = world.mac_a.mac
    services.device_delete(actor=world.installer_a, device=world.device_a)
    entry = MacAddress.objects.get(mac=mac)
    assert not Device.objects.filter(mac_address=entry).exists()
    # Unbound, so it can be bound again.
    assert add(world, mac=mac).mac_address == entry


def test_changing_the_mac_binds_the_new_one_and_frees_the_old(world):
    device = add(world)
    old = device.mac_address
    new = make_mac(world.installer_a)
    services.device_update(
        actor=world.installer_a,
        device=device,
        mac=new.mac,
        fields={"device_type": DOOR, "name": "Gate"},
        relays=[relay()],
    )
    device.refresh_from_db()
    assert device.mac_address == new
    assert not Device.objects.filter(mac_address=old).exists()


def test_a_device_keeps_its_own_mac_on_edit(world):
    device = add(world)
    services.device_update(
        actor=world.installer_a,
        device=device,
        mac=device.mac_address.mac,
        fields={"device_type": DOOR, "name": "Main Gate"},
        relays=[relay()],
    )
    device.refresh_from_db()
    assert device.name == "Main Gate"


# --- where each type goes -------------------------------------------------------------------------


@pytest.mark.parametrize("place", ["public", "building"])
def test_indoor_monitors_belong_to_apartments(world, place):
    building = world.building_a if place == "building" else None
    with pytest.raises(ValidationError) as exc:
        add(world, building=building, device_type=MONITOR)
    assert "indoor monitor cannot be added" in errors_of(exc)["device_type"][0]


@pytest.mark.parametrize("device_type", list(DeviceType))
def test_an_apartment_takes_every_type(world, device_type):
    device = add(world, apartment=world.apartment_a, device_type=device_type)
    assert device.place == Place.APARTMENT
    assert device.building == world.building_a


def test_unknown_device_type_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        add(world, device_type=7)
    assert "device_type" in errors_of(exc)


def test_device_name_is_required_and_at_most_64(world):
    with pytest.raises(ValidationError) as exc:
        add(world, name="   ")
    assert "name" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        add(world, name="x" * 65)
    assert "name" in errors_of(exc)
    assert add(world, name="x" * 64).name == "x" * 64


# --- relays -------------------------------------------------------------------------------------


def test_at_most_four_relays(world):
    with pytest.raises(ValidationError) as exc:
        add(world, relays=[relay(f"R{i}") for i in range(5)])
    assert errors_of(exc)["relays"] == ["A device has at most 4 relays."]
    device = add(world, relays=[relay(f"R{i}") for i in range(4)])
    assert list(device.relays.values_list("index", "name")) == [(1, "R0"), (2, "R1"), (3, "R2"), (4, "R3")]


def test_relay_name_is_required_when_on_only(world):
    with pytest.raises(ValidationError) as exc:
        add(world, relays=[relay("Door"), relay("")])
    assert errors_of(exc)["relay2_name"] == ["Enter the Relay Name of Relay2, or switch it Off."]
    device = add(world, relays=[relay("Door"), relay("", enabled=False)])
    assert device.relays.get(index=2).enabled is False


def test_dtmf_code_takes_keypad_characters_only(world):
    with pytest.raises(ValidationError) as exc:
        add(world, relays=[relay(dtmf="12a")])
    assert "relay1_dtmf_code" in errors_of(exc)
    assert add(world, relays=[relay(dtmf="*1#")]).relays.get().dtmf_code == "*1#"


def test_access_methods_are_checked_and_stored_in_the_forms_order(world):
    with pytest.raises(ValidationError) as exc:
        add(world, relays=[relay(methods=["pin", "telepathy"])])
    assert errors_of(exc)["relay1_access_methods"] == ["Unknown access method: telepathy."]
    device = add(world, relays=[relay(methods=["nfc", "pin", "homepage", "pin"])])
    stored = device.relays.get()
    assert stored.access_methods == "homepage,pin,nfc"
    assert stored.method_labels == ["SmartPlus Homepage", "PIN", "NFC"]


def test_every_access_method_of_the_spec_is_offered():
    assert [m.label for m in AccessMethod] == [
        "SmartPlus Homepage",
        "SmartPlus Talking page",
        "PIN",
        "Face",
        "RF Card",
        "Bluetooth",
        "NFC",
    ]


def test_security_relay_is_for_door_phones(world):
    device = add(world, security=relay("SR01 Door", methods=["rf_card"]))
    assert device.relays.filter(kind=RelayKind.SECURITY).get().name == "SR01 Door"
    with pytest.raises(ValidationError) as exc:
        add(world, apartment=world.apartment_a, device_type=MONITOR, security=relay("SR01"))
    assert "security_relay" in errors_of(exc)


def test_security_relay_name_is_required_when_on(world):
    with pytest.raises(ValidationError) as exc:
        add(world, security=relay(""))
    assert "security_relay_name" in errors_of(exc)


def test_bad_relay_writes_nothing_and_leaves_the_mac_unbound(world):
    entry = make_mac(world.installer_a)
    with pytest.raises(ValidationError):
        add(world, mac=entry.mac, relays=[relay(""), relay("B")])
    assert not Device.objects.filter(mac_address=entry).exists()
    assert not Relay.objects.filter(name="B").exists()


def test_editing_relays_replaces_them_and_is_audited(world):
    device = add(world, relays=[relay("Door"), relay("Garage")])
    services.device_update(
        actor=world.installer_a,
        device=device,
        mac=device.mac_address.mac,
        fields={"device_type": DOOR, "name": "Gate"},
        relays=[relay("Front Door", methods=["pin"])],
    )
    assert list(device.relays.values_list("name", flat=True)) == ["Front Door"]
    entry = AuditLog.objects.filter(object_id=str(device.pk), changes__has_key="relays").latest("pk")
    before, after = entry.changes["relays"]
    assert before == ["Relay1: Door; DTMF -; no access method", "Relay2: Garage; DTMF -; no access method"]
    assert after == ["Relay1: Front Door; DTMF -; PIN"]


# --- place-specific fields ----------------------------------------------------------------------


def test_public_device_serves_all_buildings_or_a_chosen_set(world):
    other = make_building(world.community_a, "Annex")
    device = add(world, all_buildings=False, buildings=[other])
    assert list(device.buildings.all()) == [other]
    with pytest.raises(ValidationError) as exc:
        add(world, all_buildings=False, buildings=[])
    assert errors_of(exc)["buildings"] == ["Choose at least one building, or tick All Buildings."]
    with pytest.raises(Http404):  # another tenant's building is not found
        add(world, all_buildings=False, buildings=[world.building_b])
    elsewhere = make_building(world.community_a2, "Elsewhere")
    with pytest.raises(ValidationError) as exc:
        add(world, all_buildings=False, buildings=[elsewhere])
    assert errors_of(exc)["buildings"] == ["Choose buildings of this community."]
    services.device_update(
        actor=world.installer_a,
        device=device,
        mac=device.mac_address.mac,
        fields={"device_type": DOOR, "name": "Gate", "all_buildings": True},
        relays=[relay()],
        buildings=[other],
    )
    assert device.buildings.count() == 0


def test_contact_display_belongs_to_building_devices(world):
    assert add(world, building=world.building_a).contact_display == ContactDisplay.ALL
    chosen = add(world, building=world.building_a, contact_display=ContactDisplay.APT_NUMBERS)
    assert chosen.contact_display == ContactDisplay.APT_NUMBERS
    assert add(world, contact_display=ContactDisplay.APT_NUMBERS).contact_display == ""


def test_arming_function_is_for_indoor_monitors(world):
    monitor = add(world, apartment=world.apartment_a, device_type=MONITOR, arming_function=True)
    assert monitor.arming_function is True
    assert add(world, apartment=world.apartment_a, arming_function=True).arming_function is False


def test_works_offline_needs_the_doorphone_offline_solution(world):
    monitor = add(world, apartment=world.apartment_a, device_type=MONITOR, works_offline=True)
    assert monitor.works_offline is False
    allow_offline(world)
    monitor = add(world, apartment=world.apartment_a, device_type=MONITOR, works_offline=True)
    assert monitor.works_offline is True


def test_one_indoor_monitor_per_apartment_works_offline(world):
    allow_offline(world)
    add(world, apartment=world.apartment_a, device_type=MONITOR, name="Hall", works_offline=True)
    with pytest.raises(ValidationError) as exc:
        add(world, apartment=world.apartment_a, device_type=MONITOR, name="Kitchen", works_offline=True)
    assert "“Hall” already transfers calls" in errors_of(exc)["works_offline"][0]
    # Another apartment has its own.
    other = make_apartment(world.building_a, "102")
    assert add(world, apartment=other, device_type=MONITOR, works_offline=True).works_offline


def test_internet_access_question_needs_the_offline_solution_and_a_door_phone(world):
    device = add(world, internet_access=False, offline_ip="192.168.1.50")
    assert device.internet_access is True and device.offline_ip is None
    allow_offline(world)
    with pytest.raises(ValidationError) as exc:
        add(world, internet_access=False)
    assert "offline_ip" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        add(world, internet_access=False, offline_ip="192.168.1.999")
    assert "offline_ip" in errors_of(exc)
    offline = add(world, internet_access=False, offline_ip="192.168.1.50")
    assert offline.internet_access is False and offline.offline_ip == "192.168.1.50"
    guard = add(world, device_type=DeviceType.GUARD_PHONE, internet_access=False)
    assert guard.internet_access is True


# --- access -------------------------------------------------------------------------------------


def test_other_tenants_and_property_managers_cannot_add(world):
    with pytest.raises(Http404):  # another tenant's community
        services.device_create(
            actor=world.installer_b,
            community=world.community_a,
            mac=next_mac(),
            fields={"device_type": DOOR, "name": "X"},
            relays=[],
        )
    with pytest.raises(PermissionDenied):
        services.device_create(
            actor=world.pm_a,
            community=world.community_a,
            mac=make_mac(world.installer_a).mac,
            fields={"device_type": DOOR, "name": "X"},
            relays=[],
        )
    with pytest.raises(Http404):  # another tenant's building
        add(world, building=world.building_b)


def test_sub_installer_adds_with_the_installers_library(world):
    device = services.device_create(
        actor=world.sub_a,
        community=world.community_a,
        mac=make_mac(world.installer_a).mac,
        fields={"device_type": DOOR, "name": "Side Gate"},
        relays=[relay()],
    )
    assert device.community == world.community_a


def test_other_tenant_cannot_edit_or_delete(world):
    with pytest.raises(Http404):
        services.device_delete(actor=world.installer_b, device=world.device_a)
    with pytest.raises(PermissionDenied):
        services.device_update(
            actor=world.pm_a,
            device=world.device_a,
            mac=world.mac_a.mac,
            fields={"device_type": DOOR, "name": "Hacked"},
            relays=[],
        )
    assert Device.objects.get(pk=world.device_a.pk).name == "Alpha Gate"


# --- counters, buildings, apartments --------------------------------------------------------------


def test_device_count_follows_adds_and_deletes(world):
    world.community_a.refresh_from_db()
    assert world.community_a.device_count == 1
    first = add(world, apartment=world.apartment_a, name="A")
    add(world, apartment=world.apartment_a, name="B")
    add(world, building=world.building_a, name="C")
    world.community_a.refresh_from_db()
    assert world.community_a.device_count == 4
    services.device_delete(actor=world.installer_a, device=first)
    world.community_a.refresh_from_db()
    assert world.community_a.device_count == 3
    # Deleting the apartment takes its remaining device.
    apartment_delete(actor=world.installer_a, apartment=world.apartment_a)
    world.community_a.refresh_from_db()
    assert world.community_a.device_count == 2
    counted = world.community_a.device_count
    community_recount(community_id=world.community_a.pk)
    world.community_a.refresh_from_db()
    assert (
        world.community_a.device_count
        == counted
        == Device.objects.filter(community=world.community_a).count()
    )


def test_apartment_delete_frees_the_macs_of_its_devices(world):
    device = add(world, apartment=world.apartment_a)
    entry = device.mac_address
    apartment_delete(actor=world.installer_a, apartment=world.apartment_a)
    assert MacAddress.objects.filter(pk=entry.pk).exists()
    assert not Device.objects.filter(mac_address=entry).exists()


def test_a_building_holding_devices_or_cameras_is_not_deleted(world):
    empty = make_building(world.community_a, "Empty")
    add(world, building=empty)
    with pytest.raises(ValidationError) as exc:
        building_delete(actor=world.installer_a, building=empty)
    assert "1 intercom device(s)" in exc.value.messages[0]
    services.device_delete(actor=world.installer_a, device=empty.devices.get())
    make_camera(world.community_a, "Yard", building=empty)
    with pytest.raises(ValidationError) as exc:
        building_delete(actor=world.installer_a, building=empty)
    assert "1 third-party camera(s)" in exc.value.messages[0]


def test_deleting_a_linked_door_phone_keeps_the_camera(world):
    services.device_delete(actor=world.installer_a, device=world.device_a)
    world.camera_a.refresh_from_db()
    assert world.camera_a.linked_devices.count() == 0


def test_a_linked_door_phone_cannot_become_another_type(world):
    with pytest.raises(ValidationError) as exc:
        services.device_update(
            actor=world.installer_a,
            device=world.device_a,
            mac=world.mac_a.mac,
            fields={"device_type": DeviceType.ACCESS_CONTROL, "name": "Alpha Gate"},
            relays=[relay()],
        )
    assert "Alpha Cam" in errors_of(exc)["device_type"][0]


# --- model and status -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "model"),
    [
        ("29.30.2.14", "R29"),
        ("28.30.10.7", "R28"),
        ("227.30.10.101", "R27"),
        ("320.30.10.106", "R20A"),
        ("912.30.10.204", "X912"),
        ("916.30.1.1", "X916"),
        ("113.30.1.1", "C313"),
        ("119.30.1.1", "C319"),
        ("82.30.1.1", "IT82"),
        ("7.1.1.1", ""),
        ("", ""),
    ],
)
def test_model_is_the_firmware_version_prefix(version, model):
    assert model_for_firmware(version) == model


def test_model_follows_the_reported_firmware(world):
    device = make_device(world.community_a, "Lobby", firmware_version="28.30.10.7")
    assert Device.objects.get(pk=device.pk).model == "R28"
    device.firmware_version = "912.30.10.204"
    device.save(update_fields=["firmware_version"])
    assert Device.objects.get(pk=device.pk).model == "X912"


@override_settings(SMARTPLUS_DEVICE_OFFLINE_AFTER=120)
def test_status_is_online_while_heartbeats_arrive(world):
    device = world.device_a
    assert device.status == DeviceStatus.OFFLINE
    device.last_seen_at = timezone.now() - timedelta(seconds=60)
    assert device.status == DeviceStatus.ONLINE
    device.last_seen_at = timezone.now() - timedelta(seconds=180)
    assert device.status == DeviceStatus.OFFLINE


def test_factory_relays_default_to_every_method(world):
    assert world.device_a.relays.get().method_list == ALL_METHODS


def test_a_new_devices_relays_join_its_created_audit_entry(world):
    device = add(world, relays=[relay("Door", methods=["pin"])])
    entries = AuditLog.objects.filter(object_id=str(device.pk), object_repr="Gate")
    assert [e.action for e in entries] == ["create"]
    assert entries.get().changes["relays"] == [None, ["Relay1: Door; DTMF -; PIN"]]


def test_camera_link_changes_are_audited(world):
    services.camera_update(
        actor=world.installer_a,
        camera=world.camera_a,
        fields={"name": "Alpha Cam"},
        linked_devices=[],
    )
    entry = AuditLog.objects.filter(object_id=str(world.camera_a.pk), action="update").latest("pk")
    assert entry.changes == {"linked_devices": [["Alpha Gate"], []]}


def test_moving_an_apartment_takes_its_devices_and_cameras_along(world):
    from residents.services import apartment_update

    device = add(world, apartment=world.apartment_a, name="Hall Monitor", device_type=MONITOR)
    camera = make_camera(world.community_a, "Hall Cam", apartment=world.apartment_a)
    annex = make_building(world.community_a, "Annex")
    apartment_update(
        actor=world.installer_a, apartment=world.apartment_a, building=annex, fields={}, resident=None
    )
    device.refresh_from_db()
    camera.refresh_from_db()
    assert (device.building, camera.building) == (annex, annex)
    assert device.location == "Annex-101"
    # The old building is empty now and can go; the moved devices stay.
    building_delete(actor=world.installer_a, building=world.building_a)
    assert Device.objects.filter(pk=device.pk).exists()


def test_a_building_that_alone_is_served_by_a_public_device_is_not_deleted(world):
    annex = make_building(world.community_a, "Annex")
    other = make_building(world.community_a, "Other")
    add(world, name="Annex Gate", all_buildings=False, buildings=[annex])
    add(world, name="Shared Gate", all_buildings=False, buildings=[annex, other])
    with pytest.raises(ValidationError) as exc:
        building_delete(actor=world.installer_a, building=annex)
    assert "Annex Gate" in exc.value.messages[0] and "Shared Gate" not in exc.value.messages[0]


def test_community_deletion_summary_names_its_devices_and_cameras(world):
    from communities.services import community_deletion_summary

    world.community_a.refresh_from_db()
    summary = " ".join(community_deletion_summary(community=world.community_a))
    assert "1 intercom device(s) and 1 third-party camera(s)" in summary
