"""Upgrade execution: dispatch, one operation per device, deadlines, retries, final states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from devices.choices import CommandKind, CommandStatus
from devices.models import DeviceCommand
from firmware import services
from firmware.choices import OperationStatus, Timing, UpgradeStatus
from firmware.models import UpgradeOperation
from tests.devices.deviceapi import FakeDevice
from tests.factories import build_world, make_device
from tests.firmware.factories import make_firmware

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.SMARTPLUS_UPGRADE_ATTEMPTS = 2
    w = build_world()
    w.gates = [w.device_a] + [
        make_device(w.community_a, f"Gate {i}", firmware_version="29.30.2.14") for i in range(2, 5)
    ]
    w.firmware = make_firmware("29.30.2.900")
    return w


def _upgrade(w, devices=None, **kwargs):
    return services.upgrade_create(
        actor=w.installer_a, firmware=w.firmware, devices=devices or w.gates, timing=Timing.NOW, **kwargs
    )


def _run(upgrade) -> None:
    for chunk in services.upgrade_dispatch(upgrade_id=upgrade.pk):
        services.operations_start(operation_ids=chunk)


def _state(upgrade) -> list:
    upgrade.refresh_from_db()
    ops = list(
        UpgradeOperation.objects.filter(upgrade=upgrade)
        .order_by("pk")
        .values_list("status", "attempts", "command_id", "deadline", "reason")
    )
    commands = list(DeviceCommand.objects.order_by("pk").values_list("pk", "status"))
    return [upgrade.status, upgrade.started_at, ops, commands]


def _expire(upgrade) -> None:
    UpgradeOperation.objects.filter(upgrade=upgrade).update(deadline=timezone.now() - timedelta(seconds=1))


def _check(upgrade) -> None:
    services.operations_check(operation_ids=list(upgrade.operations.values_list("pk", flat=True)))


def test_running_the_fan_out_twice_changes_nothing_the_second_time(world):
    upgrade = _upgrade(world)
    _run(upgrade)
    first = _state(upgrade)
    assert first[0] == UpgradeStatus.PROCESSING
    assert {op[0] for op in first[2]} == {OperationStatus.IN_PROGRESS}
    assert len(first[3]) == 4
    _run(upgrade)
    ops = list(upgrade.operations.values_list("pk", flat=True))
    services.operations_start(operation_ids=ops)
    assert _state(upgrade) == first


def test_a_device_operation_run_twice_changes_nothing(world):
    upgrade = _upgrade(world)
    services.upgrade_dispatch(upgrade_id=upgrade.pk)
    op = upgrade.operations.first()
    services.operations_start(operation_ids=[op.pk])
    first = _state(upgrade)
    services.operations_start(operation_ids=[op.pk])
    assert _state(upgrade) == first
    _expire(upgrade)
    services.operations_check(operation_ids=[op.pk])
    second = _state(upgrade)
    assert second != first  # the second attempt
    services.operations_check(operation_ids=[op.pk])  # before the new deadline: nothing
    assert _state(upgrade) == second


def test_a_device_already_on_the_version_counts_as_success(world):
    upgrade = _upgrade(world)
    type(world.device_a).objects.filter(pk__in=[d.pk for d in world.gates]).update(
        firmware_version="29.30.2.900"
    )
    _run(upgrade)
    upgrade.refresh_from_db()
    assert upgrade.status == UpgradeStatus.EXECUTED and upgrade.executed_at
    assert set(upgrade.operations.values_list("status", flat=True)) == {OperationStatus.ALREADY_ON_VERSION}
    assert not DeviceCommand.objects.exists()


def test_the_device_downloads_and_reports_the_new_version(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    assert device.register().status_code == 201
    upgrade = _upgrade(world, devices=[world.device_a], reset_after_upgrade=True)
    _run(upgrade)
    [command] = device.commands()
    assert command["kind"] == "upgrade"
    assert command["version"] == "29.30.2.900" and command["sha256"] == world.firmware.sha256
    assert command["reset_after_upgrade"] is True
    assert "/device-api/v1/firmware/" in command["url"]
    device.firmware_version = "29.30.2.900"
    assert device.result(command["id"], "done", firmware_version="29.30.2.900").status_code == 200
    op = upgrade.operations.get()
    assert (op.status, op.version_before) == (OperationStatus.SUCCESS, "29.30.2.14")
    upgrade.refresh_from_db()
    assert upgrade.status == UpgradeStatus.EXECUTED
    world.device_a.refresh_from_db()
    assert world.device_a.firmware_version == "29.30.2.900"
    # Reset After Upgrade: the device registers again after its factory reset.
    assert device.register().status_code == 201


def test_a_heartbeat_with_the_new_version_settles_the_operation(world):
    upgrade = _upgrade(world, devices=[world.device_a])
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    _run(upgrade)
    device.commands()
    device.firmware_version = "29.30.2.900"
    device.heartbeat()
    assert upgrade.operations.get().status == OperationStatus.SUCCESS


def test_no_report_before_the_deadline_retries_then_fails_with_the_reason(world):
    upgrade = _upgrade(world, devices=[world.device_a])
    _run(upgrade)
    op = upgrade.operations.get()
    first_command = op.command
    _expire(upgrade)
    _check(upgrade)
    op.refresh_from_db()
    assert (op.status, op.attempts) == (OperationStatus.IN_PROGRESS, 2)
    assert op.command_id != first_command.pk and op.command.kind == CommandKind.UPGRADE
    first_command.refresh_from_db()
    assert first_command.status == CommandStatus.CANCELLED  # never collected
    _expire(upgrade)
    _check(upgrade)
    op.refresh_from_db()
    assert op.status == OperationStatus.FAILED
    assert op.reason == "No report of 29.30.2.900 after 2 attempt(s); the device has never connected."
    upgrade.refresh_from_db()
    assert upgrade.status == UpgradeStatus.EXECUTED


def test_a_failed_attempt_is_retried_then_failed_with_the_devices_reason(world):
    upgrade = _upgrade(world, devices=[world.device_a])
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    _run(upgrade)
    [command] = device.commands()
    device.result(command["id"], "failed", "Checksum mismatch")
    op = upgrade.operations.get()
    assert op.status == OperationStatus.IN_PROGRESS and op.reason == "Checksum mismatch"
    assert op.deadline - timezone.now() <= timedelta(seconds=services.FAILED_RETRY_BASE * 1.1 + 1)
    _expire(upgrade)
    _check(upgrade)
    [again] = device.commands()
    device.result(again["id"], "failed", "Checksum mismatch")
    op.refresh_from_db()
    assert (op.status, op.reason) == (OperationStatus.FAILED, "Checksum mismatch (2 attempt(s))")


def test_a_device_reporting_another_version_has_not_upgraded(world):
    upgrade = _upgrade(world, devices=[world.device_a])
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    _run(upgrade)
    [command] = device.commands()
    device.result(command["id"], "done", firmware_version="29.30.2.14")
    op = upgrade.operations.get()
    assert op.status == OperationStatus.IN_PROGRESS
    assert op.reason == "The device reported 29.30.2.14 instead of 29.30.2.900."


def test_another_upgrade_in_progress_for_the_device_fails_the_second(world):
    first = _upgrade(world, devices=[world.device_a])
    _run(first)
    second = services.upgrade_create(
        actor=world.installer_a,
        firmware=make_firmware("29.30.2.901"),
        devices=[world.device_a],
        timing=Timing.NOW,
    )
    _run(second)
    op = second.operations.get()
    assert (op.status, op.reason) == (
        OperationStatus.FAILED,
        "Another upgrade of this device is in progress.",
    )


def test_countdowns_stay_below_the_visibility_timeout(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    delays = [services.backoff(900, attempt) for attempt in range(1, 12) for _ in range(20)]
    assert max(delays) < 3600
    assert 900 <= services.backoff(900, 1) <= 990  # jitter is at most 10 %


def test_delete_cancels_what_has_not_started(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    upgrade = _upgrade(world, devices=world.gates[:2])
    _run(upgrade)
    [collected] = device.commands()
    services.upgrade_delete(actor=world.installer_a, upgrade=upgrade)
    statuses = dict(DeviceCommand.objects.filter(kind=CommandKind.UPGRADE).values_list("pk", "status"))
    assert statuses.pop(collected["id"]) == CommandStatus.DELIVERED  # already on the device
    assert set(statuses.values()) == {CommandStatus.CANCELLED}
    assert not UpgradeOperation.objects.exists()


def test_only_a_pending_upgrade_can_be_edited(world):
    upgrade = services.upgrade_create(
        actor=world.installer_a,
        firmware=world.firmware,
        devices=world.gates,
        timing=Timing.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    assert services.upgrades_due() == []
    services.upgrade_update(
        actor=world.installer_a,
        upgrade=upgrade,
        firmware=world.firmware,
        devices=world.gates[:1],
        timing=Timing.NOW,
    )
    assert list(upgrade.operations.values_list("device_id", flat=True)) == [world.device_a.pk]
    assert services.upgrades_due() == [upgrade.pk]
    _run(upgrade)
    with pytest.raises(ValidationError, match="only a Pending upgrade can be edited"):
        services.upgrade_update(
            actor=world.installer_a,
            upgrade=upgrade,
            firmware=world.firmware,
            devices=world.gates,
            timing=Timing.NOW,
        )


def test_devices_of_another_installer_or_model_and_past_times_are_refused(world):
    other_model = make_device(world.community_a, "Old R28", firmware_version="28.31.1.209")
    # Another installer's device is not found: neither named nor counted.
    with pytest.raises(Http404):
        services.upgrade_create(
            actor=world.installer_a,
            firmware=world.firmware,
            devices=[world.device_a, world.device_b],
            timing=Timing.NOW,
        )
    with pytest.raises(ValidationError) as exc:
        services.upgrade_create(
            actor=world.installer_a,
            firmware=world.firmware,
            devices=[world.device_a, other_model],
            timing=Timing.SCHEDULED,
            scheduled_at=timezone.now() - timedelta(minutes=1),
        )
    errors = exc.value.message_dict
    assert errors["devices"] == ["Not a R29 of your communities: Old R28."]
    assert errors["scheduled_at"] == ["Choose a time in the future, or Upgrade now."]
    assert not UpgradeOperation.objects.exists()
