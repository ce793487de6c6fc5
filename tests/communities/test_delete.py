"""Deleting a community: a bounded number of queries whatever its size, one audit change set, and
everything the single-row deletes did (MACs unbound, upgrade operations keep their device's name).

Two communities, of SMALL and LARGE apartments (a family master in each, a family member in every
fifth, an indoor monitor with a relay, a command, a credential and a door log in every second),
are bulk-loaded as the query-count tests of the APT list do, deleted, and their queries compared.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import PropertyManagerAssignment
from communities import services
from communities.models import Building, Community
from devices.choices import CommandKind, DeviceType, Place
from devices.models import Device, DeviceCommand, Relay, ThirdPartyCamera
from firmware.models import FirmwareUpgrade, UpgradeOperation
from maclib.models import MacAddress
from residents.choices import CredentialKind
from residents.models import AccessCredential, Apartment, DoorLog, Resident
from residents.services import community_recount
from smartplus.audit import AuditContext, audit_context
from smartplus.models import AuditLog
from tests.factories import (
    AssignmentFactory,
    CommunityFactory,
    InstallerFactory,
    PropertyManagerFactory,
    make_building,
    make_camera,
    make_device,
    next_mac,
)
from tests.firmware.factories import make_firmware

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 300
MEMBER_EVERY = 5
DEVICE_EVERY = 2
# Bounded whatever the size: a few per table that hangs off a community (the second half's apps
# - credentials, logs, weather, Rent Manager links - added theirs).
MAX_QUERIES = 80
_versions = iter(range(100, 10_000))


def _load(community: Community, building: Building, apartments: int) -> dict:
    """Bulk-load the community's contents (no audit entries: they are not under test here)."""
    apts = Apartment.objects.bulk_create(
        Apartment(
            community=community,
            building=building,
            number=f"{i + 1:05d}",
            family_sip_number=f"D{community.pk % 1000:03d}{i:06d}",
        )
        for i in range(apartments)
    )
    masters = Resident.objects.bulk_create(
        Resident(community=community, apartment=apt, first_name="Lily", last_name=f"Zheng{i}")
        for i, apt in enumerate(apts)
    )
    Resident.objects.bulk_create(
        Resident(
            community=community, apartment=m.apartment, family_master=m, first_name="Jim", last_name="Wang"
        )
        for i, m in enumerate(masters)
        if i % MEMBER_EVERY == 0
    )
    with_device = apts[::DEVICE_EVERY]
    macs = MacAddress.objects.bulk_create(
        MacAddress(installer=community.installer, mac=next_mac()) for _ in with_device
    )
    devices = Device.objects.bulk_create(
        Device(
            community=community,
            building=building,
            apartment=apt,
            place=Place.APARTMENT,
            device_type=DeviceType.INDOOR_MONITOR,
            name=f"Monitor {apt.number}",
            mac_address=mac,
        )
        for apt, mac in zip(with_device, macs, strict=True)
    )
    Relay.objects.bulk_create(Relay(device=d, index=1, name="Door") for d in devices)
    DeviceCommand.objects.bulk_create(DeviceCommand(device=d, kind=CommandKind.REBOOT) for d in devices)
    AccessCredential.objects.bulk_create(
        AccessCredential(
            community=community, apartment=apt, resident=m, kind=CredentialKind.PIN, code=f"{i:06d}"
        )
        for i, (apt, m) in enumerate(zip(apts, masters, strict=True))
        if i % DEVICE_EVERY == 0
    )
    DoorLog.objects.bulk_create(DoorLog(apartment=apt, time=timezone.now()) for apt in with_device)
    community_recount(community_id=community.pk)
    return {"devices": devices, "macs": macs}


def _community(apartments: int, tag: str):
    installer = InstallerFactory(username=f"del-{tag}")
    community = CommunityFactory(
        installer=installer, name=f"Delete {tag}", number_of_apartments=apartments + 1
    )
    building = make_building(community, "Tower")
    public = make_device(community, "Gate", firmware_version="29.30.2.14")  # an R29 with its relay
    make_camera(community, "Lobby Cam", linked_devices=[public])
    AssignmentFactory(community=community, property_manager=PropertyManagerFactory(installer=installer))
    loaded = _load(community, building, apartments)
    upgrade = FirmwareUpgrade.objects.create(
        installer=installer,
        firmware=make_firmware(f"29.30.2.{next(_versions)}"),
        model="R29",
        scheduled_at=timezone.now() + datetime.timedelta(days=1),
    )
    UpgradeOperation.objects.create(upgrade=upgrade, device=public, device_name=public.name, mac="X")
    return community, loaded, public, upgrade


def _delete(community: Community) -> list[str]:
    installer = community.installer
    token = audit_context.set(
        AuditContext(installer.pk, installer.username, installer.pk, installer.username)
    )
    try:
        with CaptureQueriesContext(connection) as ctx:
            services.community_delete(actor=installer, community=community)
    finally:
        audit_context.reset(token)
    return [q["sql"] for q in ctx.captured_queries]


def test_community_delete_costs_the_same_queries_for_10_and_300_apartments():
    small, *_ = _community(SMALL, "small")
    large, *_ = _community(LARGE, "large")
    _delete(small)  # warm the content type cache
    small, *_ = _community(SMALL, "small2")
    small_queries = _delete(small)
    large_queries = _delete(large)
    assert len(large_queries) == len(small_queries), (len(small_queries), len(large_queries))
    assert len(large_queries) <= MAX_QUERIES, len(large_queries)


def test_community_delete_removes_everything_and_keeps_the_macs_unbound():
    community, loaded, public, upgrade = _community(SMALL, "all")
    mac_ids = [m.pk for m in loaded["macs"]] + [public.mac_address_id]

    _delete(community)
    assert not Community.objects.filter(pk=community.pk).exists()
    assert not Apartment.objects.filter(community_id=community.pk).exists()
    assert not Resident.objects.filter(community_id=community.pk).exists()
    assert not Device.objects.filter(community_id=community.pk).exists()
    assert not Relay.objects.filter(device__community_id=community.pk).exists()
    assert not ThirdPartyCamera.objects.filter(community_id=community.pk).exists()
    assert not DeviceCommand.objects.filter(device__community_id=community.pk).exists()
    assert not AccessCredential.objects.filter(community_id=community.pk).exists()
    assert not DoorLog.objects.filter(apartment__community_id=community.pk).exists()
    assert not Building.objects.filter(community_id=community.pk).exists()
    # The MACs stay in the installer's library, free for another device.
    assert MacAddress.objects.filter(pk__in=mac_ids).count() == len(mac_ids)
    assert not Device.objects.filter(mac_address_id__in=mac_ids).exists()
    # The upgrade keeps its operation, with the device's name, as after a single device delete.
    operation = upgrade.operations.get()
    assert operation.device_id is None and operation.device_name == "Gate"
    assert not PropertyManagerAssignment.objects.filter(community_id=community.pk).exists()


def test_community_delete_is_one_change_set_with_the_community_on_top():
    community, *_ = _community(SMALL, "audit")
    installer = community.installer
    before = AuditLog.objects.count()
    _delete(community)
    entries = list(AuditLog.objects.order_by("-time", "-pk")[: AuditLog.objects.count() - before])
    assert {e.change_set for e in entries} == {entries[0].change_set} and entries[0].change_set
    assert {e.action for e in entries} == {"delete"}
    assert {e.installer_id for e in entries} == {installer.pk}
    assert {e.user_name for e in entries} == {installer.username}
    top = entries[0]
    assert top.object_repr == community.name and top.object_id == str(community.pk)
    # 10 masters, 2 family members; 5 monitors + the gate; 10 apartments.
    assert top.changes["apartments"] == [SMALL, 0]
    assert top.changes["residents"] == [SMALL + SMALL // MEMBER_EVERY, 0]
    assert top.changes["devices"] == [SMALL // DEVICE_EVERY + 1, 0]
    kinds = {}
    for e in entries[1:]:
        kinds[e.object_type.model] = kinds.get(e.object_type.model, 0) + 1
    assert kinds == {
        "building": 1,
        "apartment": SMALL,
        "resident": SMALL + SMALL // MEMBER_EVERY,
        "device": SMALL // DEVICE_EVERY + 1,
        "thirdpartycamera": 1,
        "accesscredential": SMALL // DEVICE_EVERY,
        "propertymanagerassignment": 1,
    }


def test_community_delete_of_another_tenant_is_not_found(world):
    from smartplus.authz import NotFound

    with pytest.raises(NotFound):
        services.community_delete(actor=world.installer_b, community=world.community_a)
    assert Community.objects.filter(pk=world.community_a.pk).exists()
