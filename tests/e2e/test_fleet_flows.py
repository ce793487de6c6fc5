"""The device fleet in a real browser, with simulated devices heartbeating to the live server:
reboot a device from its Settings dialog; schedule an upgrade, edit it while Pending, and watch
it Executed with every device's result."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import Page, expect

from devices.services import provisioning_code
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
        specs = [
            DeviceSpec(
                mac=d.mac_address.mac,
                firmware_version=d.firmware_version,
                provisioning_code=provisioning_code(actor=d.community.installer),
            )
            for d in devices
        ]
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
    # The search runs on the server (the page reloads with ?q=): search first, then choose.
    page.get_by_test_id("device-search").fill("Alpha Gate")
    page.get_by_test_id("device-search").press("Enter")
    expect(page.get_by_test_id("device-checkbox")).to_have_count(1)
    page.get_by_test_id("upgrade-firmware").select_option(label="29.30.2.900")
    page.get_by_test_id("device-checkbox").check()
    expect(page.get_by_test_id("selected-count")).to_have_text("1")
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
    page.get_by_test_id("select-all-devices").check()
    expect(page.get_by_test_id("selected-count")).to_have_text("2")
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


def _device_call(url: str, body: dict, auth: str | None = None) -> tuple[int, dict]:
    """A device's HTTP call to the live portal (urllib, as a device would, no test client)."""
    import json
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_an_installer_adopts_a_pending_device_on_its_page(live_server, page: Page, world, log_in, screenshot):
    import base64

    mac = world.device_a.mac_address.mac
    register = f"{live_server.url}/device-api/v1/register"
    body = {
        "mac": mac,
        "claim_token": "claim-of-the-real-alpha-gate",
        "model": "R29",
        "firmware_version": "29.30.2.77",
    }
    assert _device_call(register, body)[0] == 202  # no provisioning code: pending
    log_in("inst_a")
    page.goto(f"{live_server.url}/devices/{world.device_a.pk}/")
    expect(page.get_by_test_id("registration-state")).to_contain_text("Waiting for first contact")
    request_row = page.get_by_test_id("registration-request")
    expect(request_row).to_contain_text("29.30.2.77")
    expect(request_row).to_contain_text("127.0.0.1")
    screenshot(page, "device-registration-pending.png")
    request_row.get_by_test_id("registration-adopt").click()
    expect(page.get_by_text("Alpha Gate adopted")).to_be_visible()
    expect(page.get_by_test_id("registration-state")).to_contain_text("Adopted")
    status, reply = _device_call(register, body)
    assert status == 201
    auth = "Basic " + base64.b64encode(f"{mac}:{reply['secret']}".encode()).decode()
    assert _device_call(f"{live_server.url}/device-api/v1/heartbeat", {}, auth)[0] == 200
    page.reload()
    expect(page.get_by_test_id("registration-state")).to_contain_text("Registered")
    expect(page.get_by_test_id("device-status")).to_have_text("Online")
    # The provisioning code is where installers look for device settings, with Regenerate.
    page.get_by_test_id("nav-provisioning").click()
    code = page.get_by_test_id("provisioning-code").inner_text()
    page.get_by_test_id("provisioning-regenerate").click()
    expect(page.get_by_text("New provisioning code made")).to_be_visible()
    expect(page.get_by_test_id("provisioning-code")).not_to_have_text(code)


def test_select_all_of_2500_matching_devices_saves_an_upgrade_of_2500(
    live_server, page: Page, world, log_in, rom_firmware
):
    """ "Select all" of more devices than Django takes form fields (1,000): the form posts the
    search, not the ids, and the service inserts every matching device."""
    from communities.models import Community
    from devices.choices import DeviceType, Place
    from devices.models import Device
    from firmware.models import FirmwareUpgrade
    from maclib.models import MacAddress

    count = 2_500
    macs = MacAddress.objects.bulk_create(
        MacAddress(installer=world.installer_a, mac=f"0C11E5{i:06X}") for i in range(count)
    )
    Device.objects.bulk_create(
        Device(
            community=world.community_a,
            mac_address=mac,
            place=Place.PUBLIC,
            device_type=DeviceType.MULTI_TENANT_DOOR_PHONE,
            name=f"Fleet Door {i + 1:04d}",
            firmware_version="29.30.2.14",
            model="R29",
        )
        for i, mac in enumerate(macs)
    )
    Community.objects.filter(pk=world.community_a.pk).update(device_count=count + 1)
    log_in("inst_a")
    page.get_by_test_id("nav-upgrade").click()
    page.get_by_test_id("add-upgrade").click()
    page.get_by_test_id("upgrade-model").select_option("R29")
    page.get_by_test_id("device-search").fill("Fleet Door")
    page.get_by_test_id("device-search").press("Enter")
    expect(page.get_by_test_id("shown-count")).to_contain_text(f"of {count:,}".replace(",", ""))
    page.get_by_test_id("upgrade-firmware").select_option(label="29.30.2.900")
    page.get_by_test_id("select-all-devices").check()
    banner = page.get_by_test_id("select-all-banner")
    expect(banner).to_be_visible()
    banner.get_by_test_id("select-all-matching").click()
    expect(page.get_by_test_id("selected-count")).to_have_text(str(count))
    expect(banner.get_by_test_id("all-matching-count")).to_have_text(str(count))
    page.get_by_test_id("timing-scheduled").check()
    page.get_by_test_id("upgrade-time").fill("2099-06-01T09:30")
    page.get_by_test_id("upgrade-submit").click()

    row = page.get_by_test_id("upgrade-row").first
    expect(row.get_by_test_id("upgrade-status")).to_have_text("Pending")
    upgrade = FirmwareUpgrade.objects.get()
    # Every matching device, and only those (Alpha Gate does not match "Fleet Door").
    assert upgrade.operations.count() == count
    assert not upgrade.operations.filter(device=world.device_a).exists()
    assert set(upgrade.operations.values_list("status", flat=True)) == {"pending"}
