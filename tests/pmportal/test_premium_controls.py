"""The five Premium controls: who may switch them, the plan's refusals at the service, and what
reaches the devices (their AutoP file) and the page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from communities.choices import FeaturePlan
from devices.choices import CommandKind, CommandStatus, DeviceType
from devices.models import DeviceCommand
from pmportal.models import PremiumControl
from pmportal.services import premium_control_set
from smartplus.models import AuditLog
from tests.devices.deviceapi import FakeDevice
from tests.factories import make_device

from .support import client_for, set_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(world):
    """Community A in Premium with: the public R29 (world), an R27 door phone of the building,
    an access control unit and an apartment's indoor monitor; no command waiting."""
    set_plan(world.community_a)
    world.r27 = make_device(
        world.community_a, "Block Door", building=world.building_a, firmware_version="227.30.1.1"
    )
    world.access = make_device(world.community_a, "Side Gate", device_type=DeviceType.ACCESS_CONTROL)
    world.monitor = make_device(
        world.community_a,
        "Lily's Monitor",
        building=world.building_a,
        apartment=world.apartment_a,
        device_type=DeviceType.INDOOR_MONITOR,
        firmware_version="29.30.2.14",
    )
    DeviceCommand.objects.all().delete()
    return world


def queued_autop() -> set[int]:
    return set(
        DeviceCommand.objects.filter(kind=CommandKind.AUTOP, status=CommandStatus.QUEUED).values_list(
            "device_id", flat=True
        )
    )


def test_package_notification_reaches_the_r29_door_phones_only(site):
    row = premium_control_set(
        actor=site.pm_a, community=site.community_a, control="package_notification", enabled=True
    )
    assert row.package_notification is True
    # The R29 door phone; not the R27, the access control unit, nor the R29-firmware indoor monitor.
    assert queued_autop() == {site.device_a.pk}
    assert DeviceCommand.objects.get().requested_by == site.pm_a


def test_pin_qr_and_face_reach_every_door_device_not_indoor_monitors(site):
    premium_control_set(
        actor=site.installer_a, community=site.community_a, control="pin_qr_access", enabled=False
    )
    assert queued_autop() == {site.device_a.pk, site.r27.pk, site.access.pk}
    DeviceCommand.objects.all().delete()
    premium_control_set(
        actor=site.sub_a, community=site.community_a, control="face_recognition", enabled=False
    )
    assert queued_autop() == {site.device_a.pk, site.r27.pk, site.access.pk}


def test_app_only_controls_queue_nothing_and_same_value_twice_queues_once(site):
    premium_control_set(
        actor=site.pm_a, community=site.community_a, control="family_account_creation", enabled=False
    )
    premium_control_set(
        actor=site.pm_a, community=site.community_a, control="public_camera_viewing", enabled=False
    )
    assert queued_autop() == set()
    row = PremiumControl.objects.get(community=site.community_a)
    assert (row.family_account_creation, row.public_camera_viewing) == (False, False)
    premium_control_set(
        actor=site.pm_a, community=site.community_a, control="face_recognition", enabled=False
    )
    first = DeviceCommand.objects.count()
    premium_control_set(
        actor=site.pm_a, community=site.community_a, control="face_recognition", enabled=False
    )
    assert DeviceCommand.objects.count() == first == 3


def test_the_switch_is_in_the_devices_autop_file(site):
    device = FakeDevice(site.device_a.mac_address.mac)
    device.register()
    # Before anyone switched a control the file says nothing of them: the device keeps its own.
    assert "PACKAGE" not in device.autop().content.decode()
    premium_control_set(
        actor=site.pm_a, community=site.community_a, control="package_notification", enabled=True
    )
    premium_control_set(
        actor=site.pm_a, community=site.community_a, control="face_recognition", enabled=False
    )
    [command] = device.commands()  # one AutoP waiting, however many switches
    assert command["kind"] == "autop"
    text = device.autop().content.decode()
    assert "Config.DoorSetting.PACKAGE.Enable = 1" in text
    assert "Config.DoorSetting.FACE.Enable = 0" in text
    assert "Config.DoorSetting.PIN.Enable = 1" in text and "Config.DoorSetting.QRCODE.Enable = 1" in text


def test_an_installers_own_autop_command_still_wins(site):
    from devices.maintenance import device_settings_update

    device_settings_update(
        actor=site.installer_a,
        device=site.device_a,
        transport=0,
        autop_commands="Config.DoorSetting.PACKAGE.Enable = 0",
    )
    premium_control_set(
        actor=site.pm_a, community=site.community_a, control="package_notification", enabled=True
    )
    device = FakeDevice(site.device_a.mac_address.mac)
    device.register()
    text = device.autop().content.decode()
    assert "Config.DoorSetting.PACKAGE.Enable = 0" in text and "PACKAGE.Enable = 1" not in text


def _unchanged(world):
    return (
        PremiumControl.objects.count(),
        DeviceCommand.objects.count(),
        AuditLog.objects.count(),
    )


@pytest.mark.parametrize(
    ("plan", "days", "words"),
    [
        (FeaturePlan.BASIC, 30, "Basic"),
        (FeaturePlan.ONE_MONITOR_ALL, 30, "Basic"),
        (FeaturePlan.PREMIUM, -1, "expired"),
        (FeaturePlan.PREMIUM, None, "not activated"),
    ],
)
def test_basic_or_expired_premium_is_refused_at_the_service_with_the_reason(site, plan, days, words):
    set_plan(site.community_a, plan, days=days)
    before = _unchanged(site)
    for actor in (site.pm_a, site.installer_a, site.sub_a):
        with pytest.raises(PermissionDenied, match=words):
            premium_control_set(
                actor=actor, community=site.community_a, control="pin_qr_access", enabled=False
            )
    assert _unchanged(site) == before


def test_an_unassigned_pm_and_another_installer_get_not_found(site):
    before = _unchanged(site)
    for actor in (site.pm_nothing, site.pm_b, site.installer_b):
        with pytest.raises(Http404):
            premium_control_set(
                actor=actor, community=site.community_a, control="pin_qr_access", enabled=False
            )
    for actor in (site.distributor_a, site.superuser):
        with pytest.raises(PermissionDenied):
            premium_control_set(
                actor=actor, community=site.community_a, control="pin_qr_access", enabled=False
            )
    assert _unchanged(site) == before


def test_an_unknown_control_is_invalid(site):
    with pytest.raises(ValidationError):
        premium_control_set(actor=site.pm_a, community=site.community_a, control="sauna", enabled=True)
    assert PremiumControl.objects.count() == 0


# --- the page ---------------------------------------------------------------------------------


def page(world, user=None):
    url = reverse("pmportal:premium_controls", args=[world.community_a.pk])
    return client_for(user or world.pm_a).get(url).content.decode()


def test_the_page_shows_five_switches_and_a_switch_changes_one(site):
    body = page(site)
    for key in (
        "package_notification",
        "pin_qr_access",
        "family_account_creation",
        "face_recognition",
        "public_camera_viewing",
    ):
        assert f'data-testid="switch-{key}"' in body
    assert "disabled" not in body.split('data-testid="control-package_notification"')[1].split("</tr>")[0]
    response = client_for(site.pm_a).post(
        reverse("pmportal:premium_control_set", args=[site.community_a.pk]),
        {"control": "package_notification", "enabled": "1"},
    )
    assert response.status_code == 302
    assert PremiumControl.objects.get().package_notification is True
    row = page(site).split('data-testid="control-package_notification"')[1].split("</tr>")[0]
    assert 'aria-checked="true"' in row


@pytest.mark.parametrize(
    ("plan", "days", "words"), [(FeaturePlan.BASIC, 30, "Basic"), (FeaturePlan.PREMIUM, -3, "expired")]
)
def test_under_basic_or_expiry_the_switches_are_disabled_with_the_reason_and_a_post_is_refused(
    site, plan, days, words
):
    set_plan(site.community_a, plan, days=days)
    body = page(site)
    assert body.count(" disabled title=") == 5
    assert words in body.split('data-testid="premium-refusal"')[1].split("</div>")[0]
    response = client_for(site.pm_a).post(
        reverse("pmportal:premium_control_set", args=[site.community_a.pk]),
        {"control": "package_notification", "enabled": "1"},
    )
    assert response.status_code == 403
    assert not PremiumControl.objects.exists() and not DeviceCommand.objects.exists()


def test_the_super_manager_sees_the_switches_disabled(site):
    body = page(site, site.superuser)
    assert body.count(" disabled title=") == 5 and "Only the community" in body
