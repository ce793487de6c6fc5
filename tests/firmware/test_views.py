"""The Firmware and Upgrade modules through the test client: the catalogue list and detail, the
Upgrade list with its tabs and Refresh, Add / Edit / Delete and an upgrade's detail.

The rules are the service's (test_execution.py); here each is driven through its page, and a
refusal must show at the field the user looks at and leave the database as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from devices.choices import CommandKind, CommandStatus
from devices.models import DeviceCommand
from firmware import services
from firmware.choices import OperationStatus, Timing, UpgradeStatus
from firmware.models import Firmware, FirmwareUpgrade, UpgradeOperation
from tests import querycounts
from tests.factories import make_building, make_device
from tests.firmware.factories import make_firmware
from tests.tables import rows

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
FIRMWARE_LIST = "/firmware/"
UPGRADE_LIST = "/upgrades/"
ADD = "/upgrades/add/"


def headers(response) -> list[str]:
    return [column.header for column in response.context["table"].columns]


def listed(response) -> list:
    return [row.record for row in response.context["table"].page.object_list]


def exported(response) -> list[tuple]:
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def field_errors(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def set_time_zone(user, zone: str) -> None:
    user.time_zone = zone
    user.save(update_fields=["time_zone"])


@pytest.fixture
def fw(world):
    """The catalogue: two R29 firmware and a C313 one; more R29 and C313 devices of installer A,
    and an R29 of installer B."""
    world.r29_old = make_firmware("29.30.2.805")
    world.r29 = make_firmware("29.30.2.900")
    world.c313 = make_firmware("113.30.6.89")
    world.gate2 = make_device(world.community_a2, "Towers Gate", firmware_version="29.30.2.14")
    building = make_building(world.community_a2, "Towers Block")
    world.block_gate = make_device(
        world.community_a2, "Block Gate", building=building, firmware_version="29.30.2.800"
    )
    world.keypad = make_device(world.community_a, "Keypad", firmware_version="113.30.6.1")
    world.bravo_r29 = make_device(world.community_b, "Bravo R29", firmware_version="29.30.2.14")
    return world


def upgrade_of(world, devices=None, *, when=None, firmware=None, actor=None, **kwargs) -> FirmwareUpgrade:
    """An upgrade through the service: Pending (due in a day) unless `when` says otherwise."""
    return services.upgrade_create(
        actor=actor or world.installer_a,
        firmware=firmware or world.r29,
        devices=devices or [world.device_a, world.gate2],
        timing=Timing.SCHEDULED,
        scheduled_at=when or timezone.now() + timedelta(days=1),
        **kwargs,
    )


def add_form(world, **overrides) -> dict:
    """A valid POST of Add Upgrade (upgrade now); tests override what they exercise."""
    return {
        "model": "R29",
        "firmware": world.r29.pk,
        "devices": [world.device_a.pk, world.gate2.pk],
        "timing": "now",
        "scheduled_at": "",
        **overrides,
    }


# --- Firmware: list ------------------------------------------------------------------------------


def test_firmware_list_shows_the_specs_columns_newest_first(client, fw):
    client.force_login(fw.installer_a)
    response = client.get(reverse("firmware:firmware_list"))
    assert response.status_code == 200
    assert headers(response) == ["Version", "Model", "Version Log", "Created Time", "Action"]
    shown = rows(response)
    assert [r["Version"] for r in shown] == ["113.30.6.89", "29.30.2.900", "29.30.2.805"]
    assert [r["Model"] for r in shown] == ["C313", "R29", "R29"]
    assert shown[0]["Version Log"] == "113.30.6.89 release notes"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", shown[0]["Created Time"])
    body = response.content.decode()
    assert reverse("firmware:firmware_detail", args=[fw.c313.pk]) in body
    assert body.count('data-testid="firmware-row"') == 3
    assert 'data-testid="in-all">3 In All' in body


def test_firmware_created_time_shows_in_the_users_time_zone(client, fw):
    Firmware.objects.filter(pk=fw.r29.pk).update(created=dt.datetime(2021, 8, 4, 14, 24, 52, tzinfo=dt.UTC))
    client.force_login(fw.installer_a)
    for zone, shown in (
        ("UTC", "2021-08-04 14:24:52"),
        ("Asia/Shanghai", "2021-08-04 22:24:52"),
        ("America/New_York", "2021-08-04 10:24:52"),
    ):
        set_time_zone(fw.installer_a, zone)
        by_version = {r["Version"]: r["Created Time"] for r in rows(client.get(FIRMWARE_LIST))}
        assert by_version["29.30.2.900"] == shown, zone


@pytest.mark.parametrize(
    ("typed", "versions"),
    [("29.30.2.9", ["29.30.2.900"]), ("r29", ["29.30.2.900", "29.30.2.805"]), ("113", ["113.30.6.89"])],
)
def test_firmware_search_by_version_or_model(client, fw, typed, versions):
    client.force_login(fw.installer_a)
    assert [f.version for f in listed(client.get(FIRMWARE_LIST, {"q": typed}))] == versions


def test_firmware_list_sorts_and_pages(client, fw):
    for i in range(10):
        make_firmware(f"28.31.1.{200 + i}")
    client.force_login(fw.sub_a)
    first = client.get(FIRMWARE_LIST)
    assert len(listed(first)) == 10 and 'data-testid="in-all">13 In All' in first.content.decode()
    assert len(listed(client.get(FIRMWARE_LIST, {"page": 2}))) == 3
    assert [f.model for f in listed(client.get(FIRMWARE_LIST, {"sort": "model"}))][:2] == ["C313", "R28"]
    assert listed(client.get(FIRMWARE_LIST, {"sort": "-version"}))[0].version == "29.30.2.900"


def test_firmware_list_runs_the_same_queries_for_3_and_40_entries(client, fw):
    client.force_login(fw.installer_a)
    small = querycounts.list_query_counts(client, {"page 1": (FIRMWARE_LIST, {}, 3)})
    for i in range(37):
        make_firmware(f"28.31.1.{300 + i}")
    cases = {
        "page 1": (FIRMWARE_LIST, {}, 40),
        "last page": (FIRMWARE_LIST, {"page": 4}, 40),
        "search": (FIRMWARE_LIST, {"q": "28.31"}, 37),
    }
    large = querycounts.list_query_counts(client, cases)
    assert set(large.values()) == {small["page 1"]}


# --- Firmware: detail ----------------------------------------------------------------------------


def test_firmware_detail_shows_the_checksum_size_and_source_but_no_file_url(client, fw, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    uploaded = Firmware(version="29.30.2.950", version_log="Fixes\nthe relay timing", sha256="a" * 64, size=4)
    uploaded.file.save("29.30.2.950.rom", ContentFile(b"ROM!"), save=True)
    client.force_login(fw.installer_a)
    response = client.get(reverse("firmware:firmware_detail", args=[uploaded.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("29.30.2.950", "R29", "Fixes\nthe relay timing", "a" * 64, "4 bytes", "Uploaded .rom file"):
        assert text in body, text
    assert uploaded.file.url not in body and "/media/" not in body and ".rom<" not in body

    url_entry = client.get(reverse("firmware:firmware_detail", args=[fw.r29.pk])).content.decode()
    assert "Published at a URL" in url_entry and fw.r29.url not in url_entry
    client.force_login(fw.superuser)
    assert fw.r29.url in client.get(reverse("firmware:firmware_detail", args=[fw.r29.pk])).content.decode()


def test_firmware_pages_are_refused_to_property_managers_and_distributors(client, fw):
    for user in (fw.pm_a, fw.distributor_a):
        client.force_login(user)
        assert client.get(FIRMWARE_LIST).status_code == 403
        assert client.get(reverse("firmware:firmware_detail", args=[fw.r29.pk])).status_code == 403
        assert client.get(UPGRADE_LIST).status_code == 403


def test_sidebar_links_firmware_and_upgrade_for_roles_that_may_view_them(client, fw):
    for user, shown in (
        (fw.installer_a, True),
        (fw.sub_a, True),
        (fw.superuser, True),
        (fw.pm_a, False),
        (fw.distributor_a, False),
    ):
        client.force_login(user)
        body = client.get(reverse("home"), follow=True).content.decode()
        assert ('data-testid="nav-firmware"' in body) is shown, user
        assert ('data-testid="nav-upgrade"' in body) is shown, user
    client.force_login(fw.installer_a)
    body = client.get(UPGRADE_LIST).content.decode()
    assert re.search(r'nav-link active" href="/upgrades/"', body)


# --- Upgrade: list -------------------------------------------------------------------------------


def test_upgrade_list_shows_the_specs_columns_and_only_the_installers_upgrades(client, fw):
    mine = upgrade_of(fw, when=dt.datetime(2031, 3, 22, 3, 16, 42, tzinfo=dt.UTC))
    upgrade_of(fw, [fw.bravo_r29], actor=fw.installer_b)
    set_time_zone(fw.installer_a, "Asia/Shanghai")
    client.force_login(fw.installer_a)
    response = client.get(UPGRADE_LIST)
    assert headers(response) == ["Version", "Device", "Status", "Upgrade Time", "Created Time", "Action"]
    (row,) = rows(response)
    assert row["Version"] == "29.30.2.900" and row["Device"] == "R29" and row["Status"] == "Pending"
    assert row["Upgrade Time"] == "2031-03-22 11:16:42"
    body = response.content.decode()
    assert body.count('data-testid="upgrade-row"') == 1 and "Bravo" not in body and "inst_b" not in body
    assert 'data-testid="upgrade-status" data-status="pending"' in body
    for url in (
        reverse("firmware:upgrade_edit", args=[mine.pk]),
        reverse("firmware:upgrade_delete", args=[mine.pk]),
        reverse("firmware:upgrade_detail", args=[mine.pk]),
        ADD,
    ):
        assert url in body, url
    assert 'data-testid="refresh-upgrades"' in body


def test_status_tabs_filter_the_list_and_count_each_status(client, fw):
    # One device each: a device waits in at most one Pending upgrade.
    pending = upgrade_of(fw, [fw.block_gate])
    processing = upgrade_of(fw, [fw.device_a])
    executed = upgrade_of(fw, [fw.gate2])
    FirmwareUpgrade.objects.filter(pk=processing.pk).update(status=UpgradeStatus.PROCESSING)
    FirmwareUpgrade.objects.filter(pk=executed.pk).update(status=UpgradeStatus.EXECUTED)
    client.force_login(fw.installer_a)
    everything = client.get(UPGRADE_LIST)
    assert {u.pk for u in listed(everything)} == {pending.pk, processing.pk, executed.pk}
    assert [(value, n) for value, _, n in everything.context["tabs"]] == [
        ("", 3),
        ("pending", 1),
        ("processing", 1),
        ("executed", 1),
    ]
    for status, upgrade in (("pending", pending), ("processing", processing), ("executed", executed)):
        response = client.get(UPGRADE_LIST, {"status": status})
        assert [u.pk for u in listed(response)] == [upgrade.pk], status
        assert (
            f'class="nav-link active" aria-current="page" href="?status={status}"'
            in response.content.decode()
        )
    # Edit only while Pending; Delete and Detail always.
    executed_row = client.get(UPGRADE_LIST, {"status": "executed"}).content.decode()
    assert reverse("firmware:upgrade_edit", args=[executed.pk]) not in executed_row
    assert reverse("firmware:upgrade_delete", args=[executed.pk]) in executed_row


def test_refresh_reloads_the_list_over_htmx(client, fw):
    upgrade = upgrade_of(fw)
    client.force_login(fw.installer_a)
    assert 'data-status="pending"' in client.get(UPGRADE_LIST).content.decode()
    FirmwareUpgrade.objects.filter(pk=upgrade.pk).update(status=UpgradeStatus.EXECUTED)
    response = client.get(UPGRADE_LIST, **HTMX)
    assert response.status_code == 200 and 'data-status="executed"' in response.content.decode()


def test_super_manager_sees_every_upgrade_with_its_installer_but_changes_none(client, fw):
    upgrade_of(fw)
    upgrade_of(fw, [fw.bravo_r29], actor=fw.installer_b)
    client.force_login(fw.superuser)
    response = client.get(UPGRADE_LIST)
    assert "Installer" in headers(response)
    assert {r["Installer"] for r in rows(response)} == {"inst_a", "inst_b"}
    body = response.content.decode()
    assert 'data-testid="add-upgrade"' not in body and 'data-testid="upgrade-edit"' not in body
    assert 'data-testid="upgrade-delete"' not in body and 'data-testid="upgrade-detail"' in body
    assert client.get(ADD).status_code == 403


def test_upgrade_list_runs_the_same_queries_for_2_and_30_upgrades(client, fw):
    client.force_login(fw.installer_a)

    def many(n):
        due = timezone.now() + timedelta(days=1)
        FirmwareUpgrade.objects.bulk_create(
            FirmwareUpgrade(installer=fw.installer_a, firmware=fw.r29, model="R29", scheduled_at=due)
            for _ in range(n)
        )

    many(2)
    small = querycounts.list_query_counts(client, {"all": (UPGRADE_LIST, {}, 2)})
    many(28)
    FirmwareUpgrade.objects.filter(pk__in=FirmwareUpgrade.objects.values("pk")[:7]).update(
        status=UpgradeStatus.EXECUTED
    )
    large = querycounts.list_query_counts(
        client,
        {
            "all": (UPGRADE_LIST, {}, 30),
            "last page": (UPGRADE_LIST, {"page": 3}, 30),
            "executed": (UPGRADE_LIST, {"status": "executed"}, 7),
            "by version": (UPGRADE_LIST, {"sort": "version"}, 30),
        },
    )
    assert set(large.values()) == {small["all"]}
    # One query counts every tab; the paginator takes its total from it.
    _, queries = querycounts.get_captured(client, UPGRADE_LIST, {"status": "executed"})
    (tabs,) = querycounts.counts(queries)
    assert "FILTER" in tabs


def test_both_lists_export_what_they_show(client, fw):
    Firmware.objects.filter(pk=fw.c313.pk).update(created=dt.datetime(2021, 7, 5, 11, 32, 41, tzinfo=dt.UTC))
    upgrade_of(fw, when=dt.datetime(2031, 3, 22, 3, 16, 42, tzinfo=dt.UTC))
    set_time_zone(fw.installer_a, "Asia/Shanghai")
    client.force_login(fw.installer_a)
    firmware = exported(client.get(FIRMWARE_LIST, {"q": "113", "export": "xlsx"}))
    assert firmware == [
        ("Version", "Model", "Version Log", "Created Time"),
        ("113.30.6.89", "C313", "113.30.6.89 release notes", "2021-07-05 19:32:41"),
    ]
    upgrades = exported(client.get(UPGRADE_LIST, {"status": "pending", "export": "xlsx"}))
    assert upgrades[0] == ("Version", "Device", "Status", "Upgrade Time", "Created Time")
    assert upgrades[1][:4] == ("29.30.2.900", "R29", "Pending", "2031-03-22 11:16:42")
    assert len(upgrades) == 2
    assert exported(client.get(UPGRADE_LIST, {"status": "executed", "export": "xlsx"}))[1:] == []


# --- Upgrade: Add --------------------------------------------------------------------------------


def test_add_offers_the_catalogue_models_then_that_models_firmware_and_devices(client, fw):
    client.force_login(fw.installer_a)
    first = client.get(ADD)
    body = first.content.decode()
    assert first.context["form"].models == ["C313", "R29"]
    assert 'data-testid="choose-model"' in body and 'data-testid="upgrade-form"' not in body

    response = client.get(ADD, {"model": "R29"})
    form = response.context["form"]
    assert [f.version for f in form.fields["firmware"].queryset] == ["29.30.2.900", "29.30.2.805"]
    assert {d.name for d in response.context["devices"]} == {"Alpha Gate", "Towers Gate", "Block Gate"}
    body = response.content.decode()
    for text in (
        'data-testid="device-checkbox"',
        'data-testid="select-all-devices"',
        'data-testid="device-search"',
        'data-testid="timing-now"',
        'data-testid="timing-scheduled"',
        'data-testid="upgrade-time"',
        'data-testid="upgrade-submit"',
        'data-testid="reset-after-upgrade"',
        "Alpha Gardens",
        "Towers Block",
        "Public Area",
        fw.block_gate.mac_address.mac,
        "29.30.2.800",
        "Offline",
    ):
        assert text in body, text
    assert body.count('data-testid="device-checkbox"') == 3
    assert "Bravo" not in body and "Keypad" not in body and "113.30.6.89" not in body

    c313 = client.get(ADD, {"model": "C313"})
    assert [d.name for d in c313.context["devices"]] == ["Keypad"]


def test_add_now_dispatches_the_upgrade(client, fw, django_capture_on_commit_callbacks):
    client.force_login(fw.installer_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD + "?model=R29", add_form(fw, reset_after_upgrade="on"))
    assert response.status_code == 302 and response["Location"] == UPGRADE_LIST
    upgrade = FirmwareUpgrade.objects.get()
    assert (upgrade.installer, upgrade.created_by, upgrade.firmware, upgrade.model) == (
        fw.installer_a,
        fw.installer_a,
        fw.r29,
        "R29",
    )
    assert upgrade.reset_after_upgrade and upgrade.scheduled_at <= timezone.now()
    # Dispatched at once: no simulator answers, so every device stays in progress.
    assert upgrade.status == UpgradeStatus.PROCESSING
    ops = list(upgrade.operations.order_by("device_name"))
    assert [(op.device_name, op.status, op.version_before) for op in ops] == [
        ("Alpha Gate", OperationStatus.IN_PROGRESS, "29.30.2.14"),
        ("Towers Gate", OperationStatus.IN_PROGRESS, "29.30.2.14"),
    ]
    commands = DeviceCommand.objects.filter(kind=CommandKind.UPGRADE)
    assert {c.device_id for c in commands} == {fw.device_a.pk, fw.gate2.pk}
    assert {c.status for c in commands} == {CommandStatus.QUEUED}
    assert page_messages(client.get(UPGRADE_LIST)) == [
        "Upgrade to 29.30.2.900 saved. Click Refresh to follow its status."
    ]


def test_add_at_a_time_reads_it_in_the_installers_time_zone(client, fw):
    set_time_zone(fw.installer_a, "Asia/Shanghai")
    client.force_login(fw.installer_a)
    response = client.post(ADD, add_form(fw, timing="scheduled", scheduled_at="2031-05-01T10:00"))
    assert response.status_code == 302
    upgrade = FirmwareUpgrade.objects.get()
    assert upgrade.scheduled_at == dt.datetime(2031, 5, 1, 2, 0, tzinfo=dt.UTC)
    assert upgrade.status == UpgradeStatus.PENDING
    assert not DeviceCommand.objects.exists()
    assert rows(client.get(UPGRADE_LIST))[0]["Upgrade Time"] == "2031-05-01 10:00:00"
    page = client.get(ADD, {"model": "R29"}).content.decode()
    assert 'data-testid="time-zone">Time zone: Asia/Shanghai' in page


def test_sub_installer_adds_upgrades_for_its_installer(client, fw):
    client.force_login(fw.sub_a)
    assert client.post(ADD, add_form(fw, devices=[fw.block_gate.pk])).status_code == 302
    upgrade = FirmwareUpgrade.objects.get()
    assert (upgrade.installer, upgrade.created_by) == (fw.installer_a, fw.sub_a)


def test_add_refuses_a_device_of_another_installer_at_the_field(client, fw):
    client.force_login(fw.installer_a)
    response = client.post(ADD, add_form(fw, devices=[fw.device_a.pk, fw.bravo_r29.pk]))
    assert response.status_code == 422
    assert f"Device {fw.bravo_r29.pk} is not a device of this model" in field_errors(response, "devices")
    body = response.content.decode()
    assert 'data-field-error="devices"' in body and "Bravo R29" not in body
    # The choice made is kept: Alpha Gate stays ticked.
    assert response.context["selected_devices"] == {str(fw.device_a.pk), str(fw.bravo_r29.pk)}
    assert re.search(rf'value="{fw.device_a.pk}" id="device-{fw.device_a.pk}"[^>]*checked', body)
    assert not FirmwareUpgrade.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        # A firmware of another model than the chosen one.
        ({"firmware": "c313"}, "firmware", "Select a firmware of the chosen model."),
        # The chosen model's firmware, but devices of another model.
        ({"model": "C313", "firmware": "c313"}, "devices", "is not a device of this model"),
        ({"model": "X999"}, "model", "Select a model."),
        ({"devices": []}, "devices", "Select at least one device."),
        ({"devices": ["abc"]}, "devices", "is not a device"),
        ({"timing": "scheduled", "scheduled_at": ""}, "scheduled_at", "Choose the date and time"),
        ({"timing": "scheduled", "scheduled_at": "2020-01-01T10:00"}, "scheduled_at", "in the future"),
        ({"timing": "scheduled", "scheduled_at": "tomorrow"}, "scheduled_at", "Enter a valid date/time."),
        ({"timing": "later"}, "timing", "Select a valid choice."),
    ],
)
def test_add_refusals_show_at_their_field_and_save_nothing(client, fw, overrides, field, message):
    if overrides.get("firmware") == "c313":
        overrides = {**overrides, "firmware": fw.c313.pk}
    client.force_login(fw.installer_a)
    response = client.post(ADD, add_form(fw, **overrides))
    assert response.status_code == 422
    assert message in field_errors(response, field)
    assert f'data-field-error="{field}"' in response.content.decode()
    assert not FirmwareUpgrade.objects.exists()


def test_add_with_an_empty_catalogue_says_so(client, world):
    client.force_login(world.installer_a)
    body = client.get(ADD).content.decode()
    assert 'data-testid="no-firmware"' in body and 'data-testid="upgrade-form"' not in body


# --- Upgrade: Edit -------------------------------------------------------------------------------


def test_edit_shows_the_pending_upgrades_choices_and_saves_changes(client, fw):
    set_time_zone(fw.installer_a, "America/New_York")
    upgrade = upgrade_of(fw, when=dt.datetime(2031, 7, 1, 16, 30, tzinfo=dt.UTC))
    url = reverse("firmware:upgrade_edit", args=[upgrade.pk])
    client.force_login(fw.installer_a)
    page = client.get(url)
    form = page.context["form"]
    assert form.chosen_model == "R29" and form.initial["firmware"] == fw.r29.pk
    assert set(form.initial["devices"]) == {fw.device_a.pk, fw.gate2.pk}
    body = page.content.decode()
    assert 'value="2031-07-01T12:30"' in body  # 16:30 UTC in New York (EDT)
    assert re.search(r'value="scheduled"[^>]*checked', body)

    response = client.post(
        url,
        add_form(
            fw,
            firmware=fw.r29_old.pk,
            devices=[fw.gate2.pk, fw.block_gate.pk],
            timing="scheduled",
            scheduled_at="2031-07-02T08:00",
            reset_after_upgrade="on",
        ),
    )
    assert response.status_code == 302
    upgrade.refresh_from_db()
    assert upgrade.firmware == fw.r29_old and upgrade.reset_after_upgrade
    assert upgrade.scheduled_at == dt.datetime(2031, 7, 2, 12, 0, tzinfo=dt.UTC)
    assert set(upgrade.operations.values_list("device_name", flat=True)) == {"Towers Gate", "Block Gate"}


def test_edit_to_another_model_through_the_model_select(client, fw):
    upgrade = upgrade_of(fw)
    url = reverse("firmware:upgrade_edit", args=[upgrade.pk])
    client.force_login(fw.installer_a)
    page = client.get(url, {"model": "C313"})
    assert [d.name for d in page.context["devices"]] == ["Keypad"]
    assert "firmware" not in page.context["form"].initial
    response = client.post(url, add_form(fw, model="C313", firmware=fw.c313.pk, devices=[fw.keypad.pk]))
    assert response.status_code == 302
    upgrade.refresh_from_db()
    assert (upgrade.model, upgrade.firmware) == ("C313", fw.c313)
    assert list(upgrade.operations.values_list("device_name", flat=True)) == ["Keypad"]


def test_edit_once_started_shows_a_message_and_changes_nothing(client, fw):
    upgrade = upgrade_of(fw)
    FirmwareUpgrade.objects.filter(pk=upgrade.pk).update(status=UpgradeStatus.PROCESSING)
    url = reverse("firmware:upgrade_edit", args=[upgrade.pk])
    client.force_login(fw.installer_a)
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="upgrade-locked"' in body
    assert "only a Pending upgrade can be edited" in body and 'data-testid="upgrade-form"' not in body
    response = client.post(url, add_form(fw, devices=[fw.block_gate.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("firmware:upgrade_detail", args=[upgrade.pk])
    assert set(upgrade.operations.values_list("device_name", flat=True)) == {"Alpha Gate", "Towers Gate"}
    assert "only a Pending upgrade can be edited" in page_messages(client.get(response["Location"]))[0]


def test_another_installers_upgrade_is_not_found(client, fw):
    theirs = upgrade_of(fw, [fw.bravo_r29], actor=fw.installer_b)
    client.force_login(fw.installer_a)
    for name in ("upgrade_detail", "upgrade_edit", "upgrade_delete"):
        assert client.get(reverse(f"firmware:{name}", args=[theirs.pk])).status_code == 404, name
    assert client.post(reverse("firmware:upgrade_delete", args=[theirs.pk])).status_code == 404
    assert FirmwareUpgrade.objects.filter(pk=theirs.pk).exists()


# --- Upgrade: Delete -----------------------------------------------------------------------------


def test_delete_confirmation_says_what_a_pending_upgrade_cancels(client, fw):
    set_time_zone(fw.installer_a, "Asia/Shanghai")
    upgrade = upgrade_of(fw, when=dt.datetime(2031, 1, 1, 0, 0, tzinfo=dt.UTC))
    client.force_login(fw.installer_a)
    response = client.get(reverse("firmware:upgrade_delete", args=[upgrade.pk]), **HTMX)
    body = response.content.decode()
    assert 'class="modal-header"' in body
    assert response.context["summary"] == [
        "The upgrade to 29.30.2.900 of 2 R29 device(s), due 2031-01-01 08:00, is cancelled: "
        "no device is upgraded."
    ]


def test_delete_of_a_running_upgrade_cancels_what_has_not_started(
    client, fw, django_capture_on_commit_callbacks
):
    client.force_login(fw.installer_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ADD, add_form(fw, devices=[fw.device_a.pk, fw.gate2.pk, fw.block_gate.pk]))
    upgrade = FirmwareUpgrade.objects.get()
    assert upgrade.status == UpgradeStatus.PROCESSING
    done = upgrade.operations.get(device=fw.block_gate)
    UpgradeOperation.objects.filter(pk=done.pk).update(status=OperationStatus.SUCCESS)
    url = reverse("firmware:upgrade_delete", args=[upgrade.pk])
    summary = client.get(url).context["summary"]
    assert summary[0] == "The upgrade to 29.30.2.900 of 3 R29 device(s) is processing."
    assert summary[1].startswith("2 device(s) in progress: an upgrade command a device has not collected")
    assert summary[2] == "1 device(s) that have finished keep the firmware they run."

    response = client.post(url + f"?next={UPGRADE_LIST}")
    assert response.status_code == 302 and response["Location"] == UPGRADE_LIST
    assert not FirmwareUpgrade.objects.exists() and not UpgradeOperation.objects.exists()
    commands = DeviceCommand.objects.filter(kind=CommandKind.UPGRADE)
    assert commands.count() == 3
    assert {c.status for c in commands} == {CommandStatus.CANCELLED}
    assert page_messages(client.get(UPGRADE_LIST)) == ["Deleted 29.30.2.900 → R29."]


def test_delete_of_an_executed_upgrade_only_deletes_the_record(client, fw):
    upgrade = upgrade_of(fw)
    FirmwareUpgrade.objects.filter(pk=upgrade.pk).update(status=UpgradeStatus.EXECUTED)
    client.force_login(fw.installer_a)
    summary = client.get(reverse("firmware:upgrade_delete", args=[upgrade.pk])).context["summary"]
    assert "only the record is deleted" in summary[0]


# --- Upgrade: detail -----------------------------------------------------------------------------


def test_detail_shows_the_counts_and_every_devices_operation(client, fw):
    upgrade = upgrade_of(fw, [fw.device_a, fw.gate2, fw.block_gate])
    now = timezone.now()
    ops = {op.device_id: op for op in upgrade.operations.all()}
    UpgradeOperation.objects.filter(pk=ops[fw.device_a.pk].pk).update(
        status=OperationStatus.FAILED,
        attempts=3,
        reason="No report of 29.30.2.900 after 3 attempt(s)",
        version_before="29.30.2.14",
        finished_at=now,
    )
    UpgradeOperation.objects.filter(pk=ops[fw.gate2.pk].pk).update(
        status=OperationStatus.SUCCESS, attempts=1, version_before="29.30.2.14", finished_at=now
    )
    client.force_login(fw.installer_a)
    response = client.get(reverse("firmware:upgrade_detail", args=[upgrade.pk]))
    assert headers(response) == [
        "Device Name",
        "MAC",
        "Status",
        "Version Before",
        "Attempts",
        "Reason",
        "Finished",
    ]
    by_name = {r["Device Name"]: r for r in rows(response)}
    assert by_name["Alpha Gate"]["Status"] == "Failed" and by_name["Alpha Gate"]["Attempts"] == "3"
    assert by_name["Alpha Gate"]["Reason"] == "No report of 29.30.2.900 after 3 attempt(s)"
    assert by_name["Alpha Gate"]["MAC"] == fw.device_a.mac_address.mac
    assert by_name["Towers Gate"]["Status"] == "Success"
    assert by_name["Block Gate"]["Status"] == "Pending" and by_name["Block Gate"]["Finished"] == "--"
    assert by_name["Block Gate"]["Version Before"] == "--"
    counts = {value: n for value, _, n in response.context["counts"]}
    assert counts == {
        "pending": 1,
        "in_progress": 0,
        "success": 1,
        "already_on_version": 0,
        "failed": 1,
        "cancelled": 0,
    }
    body = response.content.decode()
    assert 'data-testid="count-total">Devices: 3' in body
    assert body.count('data-testid="operation-row"') == 3
    assert 'data-testid="upgrade-edit"' in body and 'data-testid="upgrade-delete"' in body


def test_detail_pages_its_operations_with_the_same_queries_for_3_and_45_devices(client, fw):
    upgrade = upgrade_of(fw, [fw.device_a, fw.gate2, fw.block_gate])
    url = reverse("firmware:upgrade_detail", args=[upgrade.pk])
    client.force_login(fw.installer_a)
    small = querycounts.list_query_counts(client, {"page 1": (url, {}, 3)})
    UpgradeOperation.objects.bulk_create(
        UpgradeOperation(upgrade=upgrade, device=None, device_name=f"Gone {i:02d}", mac=f"0C11050000{i:02d}")
        for i in range(42)
    )
    large = querycounts.list_query_counts(
        client,
        {
            "page 1": (url, {}, 45),
            "last page": (url, {"page": 5}, 45),
            "by status": (url, {"sort": "status"}, 45),
        },
    )
    assert set(large.values()) == {small["page 1"]}
    # The counts per status are read once (GROUP BY) and give the paginator its total.
    _, queries = querycounts.get_captured(client, url)
    assert [q for q in querycounts.counts(queries) if "GROUP BY" not in q] == []


def test_super_manager_sees_an_upgrade_without_edit_or_delete(client, fw):
    upgrade = upgrade_of(fw)
    client.force_login(fw.superuser)
    response = client.get(reverse("firmware:upgrade_detail", args=[upgrade.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "inst_a" in body
    assert 'data-testid="upgrade-edit"' not in body and 'data-testid="upgrade-delete"' not in body
    assert client.get(reverse("firmware:upgrade_edit", args=[upgrade.pk])).status_code == 403
