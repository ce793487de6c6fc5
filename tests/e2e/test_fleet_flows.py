"""The device fleet in a real browser, with simulated devices heartbeating to the live server:
reboot a device from its Settings dialog; schedule an upgrade, edit it while Pending, and watch
it Executed with every device's result."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import Page, expect

from devices.simulator import DeviceSpec, Simulator


def lan_network() -> str:
    return f"127.{random.randint(100, 254)}.{random.randint(0, 255)}.0/24"


@pytest.fixture
def fleet(live_server, settings):
    """Start simulated devices for the given Device rows; stopped after the test."""
    settings.SMARTPLUS_BASE_URL = live_server.url
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    settings.SMARTPLUS_DEVICE_LAN_PORT = 18481  # the simulators' below
    started: list[Simulator] = []

    def _start(*devices) -> Simulator:
        specs = [DeviceSpec(mac=d.mac_address.mac, firmware_version=d.firmware_version) for d in devices]
        sim = Simulator(
            live_server.url, specs, interval=1, reboot_seconds=0.3, lan_network=lan_network(), lan_port=18481
        )
        started.append(sim.start(timeout=20))
        return sim

    yield _start
    for sim in started:
        sim.stop()


def test_reboot_a_device_from_its_settings_dialog(live_server, page: Page, world, log_in, fleet, screenshot):
    fleet(world.device_a)
    log_in("inst_a")
    page.goto(f"{live_server.url}/communities/{world.community_a.pk}/devices/")
    page.get_by_label("Settings of Alpha Gate").click()
    dialog = page.get_by_test_id("settings-form")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("settings-transport")).to_have_value("1")  # TCP
    screenshot(page, "device-settings.png")
    page.once("dialog", lambda d: d.accept())  # "Reboot Alpha Gate?"
    page.get_by_test_id("settings-reboot").click()
    expect(page.get_by_text("Reboot of Alpha Gate queued")).to_be_visible()
    page.goto(f"{live_server.url}/devices/{world.device_a.pk}/")
    reboot = page.locator("tr[data-command-kind=reboot]")
    expect(reboot).to_have_count(1)
    # The device collects it on its own heartbeat (nudged on loopback) and reports it done.
    for _ in range(20):
        if reboot.get_attribute("data-command-status") == "done":
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(reboot.get_by_test_id("command-status")).to_have_text("Done")
    screenshot(page, "device-remote-maintenance.png")


@pytest.fixture
def rom_firmware(settings, tmp_path):
    import hashlib

    from django.core.files.base import ContentFile

    from firmware.models import Firmware

    settings.MEDIA_ROOT = tmp_path
    content = b"R29 firmware 29.30.2.900 " * 2000
    firmware = Firmware(
        version="29.30.2.900", version_log="Faster unlock", sha256=hashlib.sha256(content).hexdigest()
    )
    firmware.size = len(content)
    firmware.file.save("r29.rom", ContentFile(content), save=False)
    firmware.save()
    return firmware


def test_schedule_an_upgrade_see_it_pending_edit_it_then_executed(
    live_server, page: Page, world, log_in, fleet, rom_firmware, screenshot
):
    from firmware.models import FirmwareUpgrade
    from tests.factories import make_device, make_mac

    make_mac(world.installer_a, "0C1105E2E002")
    lobby = make_device(world.community_a, "Alpha Lobby", mac="0C1105E2E002", firmware_version="29.30.2.14")
    sim = fleet(world.device_a, lobby)
    log_in("inst_a")
    page.get_by_test_id("nav-upgrade").click()
    page.get_by_test_id("add-upgrade").click()
    page.get_by_test_id("upgrade-model").select_option("R29")
    page.get_by_test_id("upgrade-firmware").select_option(label="29.30.2.900")
    page.get_by_test_id("device-search").fill("Alpha Gate")
    page.get_by_test_id("device-search").press("Enter")
    page.locator("[data-testid=device-checkbox]:visible").check()
    page.get_by_test_id("timing-scheduled").check()
    page.get_by_test_id("upgrade-time").fill("2099-06-01T09:30")
    screenshot(page, "upgrade-add.png")
    page.get_by_test_id("upgrade-submit").click()

    row = page.get_by_test_id("upgrade-row").first
    expect(row.get_by_test_id("upgrade-status")).to_have_text("Pending")
    expect(row).to_contain_text("2099-06-01 09:30")
    upgrade = FirmwareUpgrade.objects.get()
    assert list(upgrade.operations.values_list("mac", flat=True)) == [world.device_a.mac_address.mac]

    # Edit while Pending: both R29s, and now instead of next June.
    row.get_by_test_id("upgrade-edit").click()
    page.get_by_test_id("device-search").fill("")
    page.get_by_test_id("select-all-devices").check()
    page.get_by_test_id("timing-now").check()
    page.get_by_test_id("upgrade-submit").click()

    # The devices collect the command on their heartbeat, download, reboot and report.
    status = page.get_by_test_id("upgrade-row").first.get_by_test_id("upgrade-status")
    for _ in range(40):
        if status.inner_text() == "Executed":
            break
        page.wait_for_timeout(500)
        page.get_by_test_id("refresh-upgrades").click()
    from devices.models import DeviceCommand

    upgrade = FirmwareUpgrade.objects.get()
    state = [(op.mac, op.status, op.reason) for op in upgrade.operations.all()]
    state += list(DeviceCommand.objects.values_list("device_id", "kind", "status", "message"))
    expect(status, f"{state} {sim.truth()}").to_have_text("Executed")
    page.get_by_test_id("upgrade-row").first.get_by_test_id("upgrade-detail").click()
    results = page.get_by_test_id("operation-row")
    expect(results).to_have_count(2)
    for name in ("Alpha Gate", "Alpha Lobby"):
        expect(results.filter(has_text=name).get_by_test_id("operation-status")).to_have_text("Success")
    screenshot(page, "upgrade-detail.png")
    truth = sim.truth()
    assert {known["firmware_version"] for known in truth.values()} == {"29.30.2.900"}
