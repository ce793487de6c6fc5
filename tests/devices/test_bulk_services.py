"""devices.services.device_bulk_create / device_bulk_rename: Add Device's rules for many devices."""

from __future__ import annotations

import pytest

from devices import services
from devices.choices import DeviceType, Place
from devices.models import Device, Relay
from smartplus import authz
from smartplus.bulk import BulkErrors
from smartplus.models import AuditLog
from tests.factories import make_mac

pytestmark = pytest.mark.django_db


def _device(w, mac, device_type=DeviceType.MULTI_TENANT_DOOR_PHONE, **where) -> Device:
    place = (
        Place.APARTMENT if "apartment" in where else Place.BUILDING if "building" in where else Place.PUBLIC
    )
    if "apartment" in where:
        where["building"] = where["apartment"].building
    return Device(place=place, name="Gate", device_type=device_type, mac_address_id=mac.pk, **where)


def test_devices_get_their_default_relay1_counter_and_audit_entry(world):
    w = world
    macs = [make_mac(w.installer_a) for _ in range(2)]
    w.community_a.refresh_from_db()
    count = w.community_a.device_count
    gate, monitor = services.device_bulk_create(
        actor=w.installer_a,
        community=w.community_a,
        devices=[
            _device(w, macs[0], building=w.building_a),
            _device(w, macs[1], DeviceType.INDOOR_MONITOR, apartment=w.apartment_a),
        ],
    )
    relay = Relay.objects.get(device=gate)
    assert (relay.index, relay.name, relay.enabled, relay.access_methods) == (
        1,
        "Relay1",
        True,
        ",".join(services.DEFAULT_RELAY["access_methods"]),
    )
    assert not Relay.objects.filter(device=monitor).exists()
    w.community_a.refresh_from_db()
    assert w.community_a.device_count == count + 2
    entries = {
        e.object_id: e
        for e in AuditLog.objects.filter(
            action="create", object_type__model="device", object_id__in=[str(gate.pk), str(monitor.pk)]
        )
    }
    assert "relays" in entries[str(gate.pk)].changes and "relays" not in entries[str(monitor.pk)].changes


def test_a_mac_of_another_installer_bound_or_repeated_and_a_wrong_type_are_refused(world):
    w = world
    free = make_mac(w.installer_a)
    with pytest.raises(BulkErrors) as exc:
        services.device_bulk_create(
            actor=w.installer_a,
            community=w.community_a,
            devices=[
                _device(w, w.mac_b, building=w.building_a),
                _device(w, w.mac_a, building=w.building_a),
                _device(w, free, building=w.building_a),
                _device(w, free, building=w.building_a),
                _device(w, make_mac(w.installer_a), DeviceType.INDOOR_MONITOR),
            ],
        )
    rows = exc.value.rows
    assert "not in your MAC library" in rows[0]["mac"][0]
    assert "already bound to “Alpha Gate”" in rows[1]["mac"][0]
    assert 2 not in rows and rows[3] == {"mac": ["This MAC is given twice."]}
    assert list(rows[4]) == ["device_type"]
    assert not Device.objects.filter(mac_address=free).exists()


def test_another_tenants_community_or_device_is_not_found(world):
    w = world
    with pytest.raises(authz.NotFound):
        services.device_bulk_create(
            actor=w.installer_a, community=w.community_b, devices=[_device(w, make_mac(w.installer_a))]
        )
    device = Device.objects.get(pk=w.device_b.pk)
    device.name = "Mine"
    with pytest.raises(authz.NotFound):
        services.device_bulk_rename(actor=w.installer_a, devices=[device])


def test_rename_is_checked_and_audited(world):
    w = world
    device = Device.objects.get(pk=w.device_a.pk)
    device.name = "N" * 65
    with pytest.raises(BulkErrors):
        services.device_bulk_rename(actor=w.installer_a, devices=[device])
    device.name = "Main Gate"
    services.device_bulk_rename(actor=w.installer_a, devices=[device])
    assert Device.objects.get(pk=device.pk).name == "Main Gate"
    entry = AuditLog.objects.latest("pk")
    assert (entry.action, entry.changes) == ("update", {"name": ["Alpha Gate", "Main Gate"]})
