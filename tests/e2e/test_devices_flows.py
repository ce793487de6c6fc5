"""Devices and cameras in a real browser: the Add Device dialog in each place, and Add Camera.

(MAC library flows are in test_maclib_flows.py.)
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from devices.choices import ContactDisplay, DeviceType, RelayKind
from devices.models import Device, ThirdPartyCamera
from devices.services import camera_password
from tests.factories import make_mac

from .test_residents_flows import open_modal


def field(scope, label: str):
    """A form control by its exact label; a required field's label starts with "* "."""
    return scope.get_by_label(re.compile(rf"^(\* )?{re.escape(label)}$"))


def set_methods(relay, wanted: set[str]) -> None:
    """Tick exactly the wanted access methods of one relay block."""
    for label in (
        "SmartPlus Homepage",
        "SmartPlus Talking page",
        "PIN",
        "Face",
        "RF Card",
        "Bluetooth",
        "NFC",
    ):
        box = relay.get_by_label(label, exact=True)
        if label in wanted:
            box.check()
        else:
            box.uncheck()


def device_row(page: Page, name: str):
    return page.get_by_test_id("device-table").locator("tbody tr").filter(has_text=name)


def test_public_device_with_two_relays_and_chosen_access_methods(
    live_server, page, world, log_in, screenshot
):
    make_mac(world.installer_a, "0C11050B9814")
    log_in("inst_a")
    page.goto(f"{live_server.url}/communities/{world.community_a.pk}/public-area/devices/")
    expect(device_row(page, "Alpha Gate")).to_be_visible()

    modal = open_modal(page, page.get_by_test_id("new-device"), "Add Device")
    field(modal, "Device Type").select_option(label="Multi-tenant door phone")
    field(modal, "MAC").fill("0c:11:05:0b:98:14")
    field(modal, "Device Name").fill("Main Gate")
    relay1 = modal.get_by_test_id("relay1")
    field(relay1, "Relay Name").fill("Car Gate")
    field(relay1, "DTMF Code").fill("#1")
    set_methods(relay1, {"PIN", "RF Card"})
    relay2 = modal.get_by_test_id("relay2")
    expect(relay2).to_be_hidden()
    modal.get_by_role("button", name="Add Relay").click()
    expect(relay2).to_be_visible()
    field(relay2, "Relay Name").fill("Pedestrian Door")
    set_methods(relay2, {"Face", "SmartPlus Homepage"})
    screenshot(page, "add-device.png")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Device Main Gate saved.")
    row = device_row(page, "Main Gate")
    expect(row).to_contain_text("0C11050B9814")
    expect(row).to_contain_text("Multi-tenant door phone")
    device = Device.objects.get(name="Main Gate")
    assert device.place == "public" and device.all_buildings
    relays = {
        r.index: (r.name, r.dtmf_code, r.access_methods) for r in device.relays.filter(kind=RelayKind.RELAY)
    }
    assert relays == {1: ("Car Gate", "#1", "pin,rf_card"), 2: ("Pedestrian Door", "", "homepage,face")}

    # The device's info page shows both relays with their methods.
    page.goto(f"{live_server.url}/devices/{device.pk}/")
    relay_table = page.get_by_test_id("relay-table")
    expect(relay_table).to_contain_text("Car Gate")
    expect(relay_table).to_contain_text("PIN, RF Card")
    expect(relay_table).to_contain_text("SmartPlus Homepage, Face")


def test_relay_name_is_asked_for_at_the_field(live_server, page, world, log_in):
    make_mac(world.installer_a, "0C11050B9815")
    log_in("inst_a")
    page.goto(f"{live_server.url}/communities/{world.community_a.pk}/public-area/devices/")
    modal = open_modal(page, page.get_by_test_id("new-device"), "Add Device")
    field(modal, "MAC").fill("0C11050B9815")
    field(modal, "Device Name").fill("Side Gate")
    modal.get_by_role("button", name="Submit").click()
    expect(modal.get_by_test_id("relay1")).to_contain_text(
        "Enter the Relay Name of Relay1, or switch it Off."
    )
    assert not Device.objects.filter(name="Side Gate").exists()


def test_building_device_and_apartment_indoor_monitor(live_server, page, world, log_in, screenshot):
    make_mac(world.installer_a, "0C110509BA3C")
    make_mac(world.installer_a, "0C11050893C6")
    log_in("inst_a")

    page.goto(f"{live_server.url}/buildings/{world.building_a.pk}/devices/")
    modal = open_modal(page, page.get_by_test_id("new-device"), "Add Device")
    field(modal, "MAC").fill("0C110509BA3C")
    modal.get_by_label("Only APT numbers").check()
    field(modal, "Device Name").fill("Block Entrance")
    field(modal.get_by_test_id("relay1"), "Relay Name").fill("Lobby Door")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    expect(device_row(page, "Block Entrance")).to_be_visible()
    entrance = Device.objects.get(name="Block Entrance")
    assert (entrance.place, entrance.building, entrance.contact_display) == (
        "building",
        world.building_a,
        ContactDisplay.APT_NUMBERS,
    )

    page.goto(f"{live_server.url}/apartments/{world.apartment_a.pk}/")
    expect(page.get_by_test_id("device-count")).to_have_text("0 Intercom Devices")
    modal = open_modal(page, page.get_by_test_id("new-device"), "Add Device")
    field(modal, "Device Type").select_option(label="Indoor monitor")
    field(modal, "MAC").fill("0C11050893C6")
    field(modal, "Device Name").fill("Living Room")
    modal.get_by_label("Arming Function").check()
    # Indoor monitors have no SR01 security relay.
    expect(modal.get_by_role("button", name="Add Security Relay")).to_be_hidden()
    field(modal.get_by_test_id("relay1"), "Relay Name").fill("Balcony")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("device-count")).to_have_text("1 Intercom Device")
    expect(page.get_by_test_id("device-table")).to_contain_text("Living Room")
    screenshot(page, "apartment-devices.png")
    monitor = Device.objects.get(name="Living Room")
    assert (monitor.device_type, monitor.apartment, monitor.arming_function) == (
        DeviceType.INDOOR_MONITOR,
        world.apartment_a,
        True,
    )


def test_camera_linked_to_an_r29_door_phone(live_server, page, world, log_in, screenshot):
    log_in("inst_a")
    page.goto(f"{live_server.url}/communities/{world.community_a.pk}/public-area/cameras/")
    modal = open_modal(page, page.get_by_role("link", name="New"), "Add Camera")
    field(modal, "Device Name").fill("Parking Cam")
    field(modal, "RTSP Address").fill("rtsp://cam.example.com:554")
    field(modal, "Username").fill("viewer")
    field(modal, "Password").fill("s3cret-parking")
    field(modal, "Link Device").select_option(label="Alpha Gate (R29)")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    row = page.get_by_test_id("camera-table").locator("tbody tr").filter(has_text="Parking Cam")
    expect(row).to_contain_text("Alpha Gate")
    screenshot(page, "cameras.png")
    camera = ThirdPartyCamera.objects.get(name="Parking Cam")
    assert list(camera.linked_devices.all()) == [world.device_a]
    assert camera_password(camera) == "s3cret-parking"

    # Editing shows every field but the password, which stays when left blank.
    modal = open_modal(page, row.get_by_role("link", name=re.compile("Edit")), "Edit Camera")
    expect(field(modal, "RTSP Address")).to_have_value("rtsp://cam.example.com:554")
    expect(field(modal, "Password")).to_have_value("")
    assert "s3cret-parking" not in page.content()
    field(modal, "Device Name").fill("Parking Camera")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    camera.refresh_from_db()
    assert camera.name == "Parking Camera" and camera_password(camera) == "s3cret-parking"
