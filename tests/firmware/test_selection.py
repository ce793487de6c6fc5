"""Add / Edit Upgrade at fleet sizes: "select all matching" posts the search, not the ids, and the
service resolves it in one set-based insert; a device waits in at most one Pending upgrade; a
downgrade is refused until the installer confirms it; the nudges of a launch go in batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Community
from devices import maintenance
from devices import tasks as device_tasks
from devices.choices import DeviceType, Place
from devices.models import Device
from firmware import services
from firmware.choices import OperationStatus, Timing, UpgradeStatus
from firmware.forms import DEVICE_ROWS
from firmware.models import FirmwareUpgrade, UpgradeOperation
from firmware.versions import is_downgrade, version_key
from maclib.models import MacAddress
from tests.factories import make_device
from tests.firmware.factories import make_firmware

pytestmark = pytest.mark.django_db

ADD = "/upgrades/add/"
LATER = {"timing": "scheduled", "scheduled_at": "2099-06-01T09:30"}


def fleet(world, count: int, *, name: str = "Fleet Door", version: str = "29.30.2.14", start: int = 0):
    """`count` public R29 door phones of community A, bulk-created."""
    macs = MacAddress.objects.bulk_create(
        MacAddress(installer=world.installer_a, mac=f"0C11E6{start + i:06X}") for i in range(count)
    )
    Device.objects.bulk_create(
        Device(
            community=world.community_a,
            mac_address=mac,
            place=Place.PUBLIC,
            device_type=DeviceType.MULTI_TENANT_DOOR_PHONE,
            name=f"{name} {start + i:04d}",
            firmware_version=version,
            model="R29",
        )
        for i, mac in enumerate(macs)
    )
    Community.objects.filter(pk=world.community_a.pk).update(device_count=count + 1)
    return Device.objects.filter(name__startswith=name)


@pytest.fixture
def r29(world):
    return make_firmware("29.30.2.900")


def later():
    return timezone.now() + timedelta(days=1)


# --- versions ------------------------------------------------------------------------------------


def test_versions_compare_by_their_dotted_numbers():
    assert version_key("29.30.2.1000") == (29, 30, 2, 1000)
    assert is_downgrade("29.30.2.1000", "29.30.2.900")  # as text, "1000" < "900"
    assert not is_downgrade("29.30.2.14", "29.30.2.900")
    assert not is_downgrade("29.30.2.900", "29.30.2.900")
    assert not is_downgrade("", "29.30.2.900") and version_key("beta") is None


# --- select all matching -------------------------------------------------------------------------


def test_select_all_matching_posts_the_search_and_saves_every_match(client, world, r29):
    fleet(world, DEVICE_ROWS + 50)
    fleet(world, 3, name="Garage", start=5000)
    client.force_login(world.installer_a)
    page = client.get(ADD, {"model": "R29", "q": "Fleet"})
    assert page.context["matching_count"] == DEVICE_ROWS + 50
    assert len(page.context["devices"]) == DEVICE_ROWS
    body = page.content.decode()
    assert f"Select all {DEVICE_ROWS + 50} matching devices" in body
    assert f"showing {DEVICE_ROWS} of {DEVICE_ROWS + 50} matching" in body

    data = {"model": "R29", "firmware": r29.pk, "selection": "all", "q": "Fleet", **LATER}
    response = client.post(ADD, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    upgrade = FirmwareUpgrade.objects.get()
    names = set(upgrade.operations.values_list("device_name", flat=True))
    assert len(names) == DEVICE_ROWS + 50 and all(n.startswith("Fleet Door") for n in names)
    op = upgrade.operations.select_related("device__mac_address").first()
    assert (op.mac, op.status) == (op.device.mac_address.mac, OperationStatus.PENDING)


def test_select_all_matching_never_reaches_another_tenants_devices(client, world, r29):
    make_device(world.community_b, "Fleet Door Bravo", firmware_version="29.30.2.14")
    fleet(world, 2)
    client.force_login(world.installer_a)
    data = {"model": "R29", "firmware": r29.pk, "selection": "all", "q": "Fleet Door", **LATER}
    assert client.post(ADD, data).status_code == 302
    names = set(FirmwareUpgrade.objects.get().operations.values_list("device_name", flat=True))
    assert names == {"Fleet Door 0000", "Fleet Door 0001"}


def test_explicit_ids_still_work_and_an_empty_selection_is_refused(client, world, r29):
    chosen = list(fleet(world, 3).order_by("pk").values_list("pk", flat=True))[:2]
    client.force_login(world.installer_a)
    data = {"model": "R29", "firmware": r29.pk, "devices": chosen, **LATER}
    assert client.post(ADD, data).status_code == 302
    assert sorted(FirmwareUpgrade.objects.get().operations.values_list("device_id", flat=True)) == chosen
    FirmwareUpgrade.objects.all().delete()
    response = client.post(ADD, {"model": "R29", "firmware": r29.pk, **LATER})
    assert response.status_code == 422
    assert response.context["form"].errors["devices"] == ["Select at least one device."]
    response = client.post(
        ADD, {"model": "R29", "firmware": r29.pk, "selection": "all", "q": "nothing", **LATER}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["devices"] == ["Select at least one device."]


def _create_queries(world, r29, match) -> int:
    with CaptureQueriesContext(connection) as ctx:
        services.upgrade_create(
            actor=world.installer_a, firmware=r29, match=match, timing=Timing.SCHEDULED, scheduled_at=later()
        )
    return len(ctx.captured_queries)


def test_the_selection_costs_the_same_queries_whatever_its_size(world, r29):
    fleet(world, 5, name="Small")
    fleet(world, 400, name="Large", start=100)
    small = _create_queries(world, r29, services.DeviceMatch(search="Small"))
    large = _create_queries(world, r29, services.DeviceMatch(search="Large"))
    assert small == large
    assert UpgradeOperation.objects.count() == 405


def test_an_edit_of_a_large_upgrade_keeps_its_devices_unless_chosen_again(client, world, r29):
    fleet(world, DEVICE_ROWS + 5)
    fleet(world, 2, name="Garage", start=5000)
    upgrade = services.upgrade_create(
        actor=world.installer_a,
        firmware=r29,
        match=services.DeviceMatch(search="Fleet"),
        timing=Timing.SCHEDULED,
        scheduled_at=later(),
    )
    client.force_login(world.installer_a)
    edit = f"/upgrades/{upgrade.pk}/edit/"
    page = client.get(edit)
    assert page.context["selection"] == "keep"
    assert f"This upgrade's <strong>{DEVICE_ROWS + 5}</strong> devices are kept." in page.content.decode()
    data = {"model": "R29", "firmware": r29.pk, "selection": "keep", "timing": "now", "scheduled_at": ""}
    assert client.post(edit, data).status_code == 302
    upgrade.refresh_from_db()
    assert upgrade.operations.count() == DEVICE_ROWS + 5
    assert upgrade.scheduled_at <= timezone.now()


# --- one Pending upgrade per device --------------------------------------------------------------


def test_a_device_waiting_in_a_pending_upgrade_is_refused_by_name(client, world, r29):
    doors = fleet(world, 3)
    first = doors.order_by("pk").first()
    services.upgrade_create(
        actor=world.installer_a, firmware=r29, devices=[first], timing=Timing.SCHEDULED, scheduled_at=later()
    )
    client.force_login(world.installer_a)
    data = {"model": "R29", "firmware": r29.pk, "selection": "all", "q": "Fleet", **LATER}
    response = client.post(ADD, data)
    assert response.status_code == 422
    (message,) = response.context["form"].errors["devices"]
    assert message.startswith(
        f"1 selected device(s) already wait in another Pending upgrade: {first.name} (29.30.2.900)."
    )
    assert 'data-field-error="devices"' in response.content.decode()
    assert FirmwareUpgrade.objects.count() == 1 and UpgradeOperation.objects.count() == 1


def test_an_edit_keeps_its_own_pending_devices(world, r29):
    doors = list(fleet(world, 3).order_by("pk"))
    upgrade = services.upgrade_create(
        actor=world.installer_a,
        firmware=r29,
        devices=doors[:2],
        timing=Timing.SCHEDULED,
        scheduled_at=later(),
    )
    services.upgrade_update(
        actor=world.installer_a,
        upgrade=upgrade,
        firmware=r29,
        devices=doors[1:],
        timing=Timing.SCHEDULED,
        scheduled_at=later(),
    )
    assert sorted(upgrade.operations.values_list("device_id", flat=True)) == [d.pk for d in doors[1:]]


def test_the_database_refuses_a_second_pending_operation_of_a_device(world, r29):
    upgrade = services.upgrade_create(
        actor=world.installer_a,
        firmware=r29,
        devices=[world.device_a],
        timing=Timing.SCHEDULED,
        scheduled_at=later(),
    )
    other = FirmwareUpgrade.objects.create(
        installer=world.installer_a, firmware=r29, model="R29", scheduled_at=later()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        UpgradeOperation.objects.create(upgrade=other, device=world.device_a, device_name="x", mac="x")
    # Once the first one has started, the device may wait in another upgrade.
    upgrade.operations.update(status=OperationStatus.IN_PROGRESS)
    UpgradeOperation.objects.create(upgrade=other, device=world.device_a, device_name="x", mac="x")


def test_a_save_racing_another_reports_the_devices_it_lost(world, r29, monkeypatch):
    """The check passed, then another save made the device Pending first: the constraint refuses
    the insert and the whole save is rolled back with the same message."""
    doors = list(fleet(world, 2).order_by("pk"))
    monkeypatch.setattr(services, "_pending_elsewhere", lambda selection, upgrade: "")
    services.upgrade_create(
        actor=world.installer_a,
        firmware=r29,
        devices=[doors[0]],
        timing=Timing.SCHEDULED,
        scheduled_at=later(),
    )
    with pytest.raises(ValidationError) as exc:
        services.upgrade_create(
            actor=world.installer_a,
            firmware=r29,
            devices=doors,
            timing=Timing.SCHEDULED,
            scheduled_at=later(),
        )
    assert exc.value.message_dict["devices"] == ["Another upgrade took some of these devices."]
    assert FirmwareUpgrade.objects.count() == 1


# --- downgrades ------------------------------------------------------------------------------------


def test_a_downgrade_is_refused_until_confirmed(client, world, r29):
    fleet(world, 3, version="29.30.2.1000")
    fleet(world, 2, name="Old Door", start=100)
    client.force_login(world.installer_a)
    data = {"model": "R29", "firmware": r29.pk, "selection": "all", "q": "Door", **LATER}
    response = client.post(ADD, data)
    assert response.status_code == 422
    (message,) = response.context["form"].errors["confirm_downgrade"]
    assert message.startswith("3 of the 5 selected device(s) run a newer version than 29.30.2.900")
    body = response.content.decode()
    assert 'data-testid="downgrade-warning"' in body and 'data-testid="confirm-downgrade"' in body
    assert not FirmwareUpgrade.objects.exists()
    # The page without a downgrade shows no warning at all.
    assert 'data-testid="downgrade-warning"' not in client.get(ADD, {"model": "R29"}).content.decode()

    response = client.post(ADD, {**data, "confirm_downgrade": "on"})
    assert response.status_code == 302
    assert FirmwareUpgrade.objects.get().operations.count() == 5


# --- the nudges of a launch ----------------------------------------------------------------------


def test_a_launch_nudges_its_devices_in_batches_carrying_their_address(
    world, r29, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    monkeypatch.setattr(device_tasks, "NUDGE_BATCH", 2)
    doors = fleet(world, 5)
    doors.update(lan_address="127.0.0.9")
    Device.objects.filter(pk=doors.order_by("pk").first().pk).update(lan_address="10.1.2.3")  # not dialled
    sent = []
    monkeypatch.setattr(
        "smartplus.celery.fan_out", lambda task, args, countdown=None: sent.append((task, args))
    )
    upgrade = services.upgrade_create(
        actor=world.installer_a,
        firmware=r29,
        match=services.DeviceMatch(search="Fleet"),
        timing=Timing.SCHEDULED,
        scheduled_at=later(),
    )
    FirmwareUpgrade.objects.filter(pk=upgrade.pk).update(status=UpgradeStatus.PROCESSING)
    with django_capture_on_commit_callbacks(execute=True):
        services.operations_start(operation_ids=list(upgrade.operations.values_list("pk", flat=True)))
    nudges = [batch for task, batches in sent if task is device_tasks.devices_nudge_task for batch in batches]
    assert [len(targets) for (targets,) in nudges] == [2, 2]
    for (targets,) in nudges:
        assert all(address == "127.0.0.9" for _pk, address in targets)


def test_the_batch_nudge_returns_the_devices_that_did_not_answer(settings, django_assert_num_queries):
    import socket

    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    with socket.socket() as s:  # a port nothing listens on: refused at once
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    settings.SMARTPLUS_DEVICE_LAN_PORT = closed
    targets = [[1, "127.0.0.1"], [2, "10.9.9.9"]]  # the second is outside the networks
    with django_assert_num_queries(0):
        assert maintenance.devices_nudge(targets=targets) == [[1, "127.0.0.1"]]
