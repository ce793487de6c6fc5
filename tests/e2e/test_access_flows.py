"""Access credentials in a real browser: an installer adds an RF card for a family member, and
the door device's page shows the credential version it waits for."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from access.models import Credential, DeviceUsers


def test_installer_adds_an_rf_card_for_a_family_member(live_server, page: Page, world, log_in):
    log_in("inst_a")
    page.goto(f"{live_server.url}/apartments/{world.apartment_a.pk}/")
    expect(page.get_by_test_id("apartment-credentials")).to_contain_text("0 PIN code(s)")
    page.get_by_test_id("apartment-credentials-link").click()
    expect(page).to_have_url(re.compile(rf"/apartments/{world.apartment_a.pk}/credentials/$"))
    expect(page.get_by_test_id("nav-credentials")).to_be_visible()

    page.get_by_test_id("credential-add").click()
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_have_text("Add Credential")
    modal.get_by_label("Resident").select_option(label="Jim Wang (family member)")
    modal.get_by_label("RF Card").check()
    modal.get_by_label("PIN / Card Code").fill("12")
    modal.get_by_role("button", name="Submit").click()
    # A wrong code is the field's error, in the dialog.
    expect(modal.locator("[data-field-error=code]")).to_contain_text("4 to 20")
    modal.get_by_label("PIN / Card Code").fill("00c0ffee")
    modal.get_by_label("Name").fill("Jim's fob")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Credential saved.")
    row = page.get_by_test_id("credential-table").locator("tbody tr").filter(has_text="Jim Wang")
    expect(row).to_contain_text("RF Card")
    expect(row).to_contain_text("00C0FFEE")
    credential = Credential.objects.get()
    assert (credential.resident, credential.code, credential.created_by) == (
        world.member_a,
        "00C0FFEE",
        world.installer_a,
    )

    # The community's list finds it by the card's digits.
    page.get_by_test_id("nav-credentials").click()
    page.get_by_label("Search").fill("c0ff")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("credential-table").locator("tbody tr")).to_have_count(1)

    # The public door waits for version 1 until it fetches it.
    assert DeviceUsers.objects.get(device=world.device_a).version_wanted == 1
    page.goto(f"{live_server.url}/devices/{world.device_a.pk}/")
    expect(page.get_by_test_id("version-wanted")).to_have_text("1")
    expect(page.get_by_test_id("version-acknowledged")).to_contain_text("waiting for the device")
