"""The MAC Library module in a real browser: New; Import (a bad file and its errors, then a good one:
its preview, Confirm, the result); search; Remove."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from maclib.models import MacAddress
from tests.maclib.workbooks import XLSX, mac_file


def open_modal(page: Page, trigger, title: str):
    trigger.click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text(title)
    return modal


def mac_rows(page: Page):
    return page.get_by_test_id("mac-table").locator("tbody tr")


def mac_row(page: Page, mac: str):
    return mac_rows(page).filter(has=page.get_by_role("cell", name=mac, exact=True))


def choose_file(modal, content: bytes, name: str = "macs.xlsx") -> None:
    modal.get_by_label("MAC template").set_input_files({"name": name, "mimeType": XLSX, "buffer": content})


def test_add_import_search_and_remove_macs(live_server, page, world, log_in, screenshot):
    a = world.installer_a
    log_in("inst_a")
    page.get_by_test_id("nav-mac-library").click()
    expect(page).to_have_url(re.compile(r"/mac-library/$"))
    expect(mac_row(page, world.mac_a.mac)).to_contain_text("Public Device")
    expect(mac_rows(page)).to_have_count(1)
    expect(page.get_by_test_id("mac-table")).not_to_contain_text(world.mac_b.mac)

    # --- New: typed with separators and in lower case, listed in the stored form ---
    modal = open_modal(page, page.get_by_role("link", name="New"), "New MAC")
    modal.get_by_label("MAC").fill("0c:11:05-ab:cd:01")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("0C1105ABCD01 was added to the MAC library.")
    row = mac_row(page, "0C1105ABCD01")
    expect(row).to_contain_text("inst_a")
    expect(row).to_contain_text("--")
    expect(mac_rows(page)).to_have_count(2)

    # A MAC of installer B: refused at the field, without saying whose it is.
    modal = open_modal(page, page.get_by_role("link", name="New"), "New MAC")
    modal.get_by_label("MAC").fill(world.mac_b.mac.lower())
    modal.get_by_role("button", name="Submit").click()
    expect(modal.locator('[data-field-error="mac"]')).to_have_text(
        f"{world.mac_b.mac} cannot be added: it is already registered in a MAC library."
    )
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()

    # --- Import: one bad row, and the import's page lists it; nothing can be confirmed ---
    modal = open_modal(page, page.get_by_role("link", name="Import"), "Import MACs")
    expect(modal.get_by_test_id("template-link")).to_be_visible()
    choose_file(modal, mac_file("0C1105ABCD10", "0C1105ABCD1", "0c:11:05:ab:cd:12"))
    modal.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/mac-library/imports/\d+/$"))
    status = page.get_by_test_id("import-status")
    expect(status.get_by_test_id("import-rejected")).to_contain_text("Nothing was imported: 1 error(s)")
    errors = status.get_by_test_id("import-errors").locator("tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first.locator("td")).to_have_text(["3", "MAC", re.compile(r"12 hex digits")])
    expect(status.get_by_test_id("download-errors")).to_be_visible()
    expect(status.get_by_test_id("confirm-import")).to_have_count(0)
    assert not MacAddress.objects.filter(mac__in=["0C1105ABCD10", "0C1105ABCD12"]).exists()

    # ... a corrected file: its page previews the MACs to add, and nothing is written yet ...
    status.get_by_test_id("upload-again").click()
    expect(page).to_have_url(re.compile(r"/mac-library/import/$"))
    expect(page.get_by_test_id("recent-imports")).to_contain_text("macs.xlsx")
    page.get_by_label("MAC template").set_input_files(
        {
            "name": "macs.xlsx",
            "mimeType": XLSX,
            "buffer": mac_file("0C1105ABCD10", "0c-11-05-ab-cd-11", "0C1105ABCD12"),
        }
    )
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/mac-library/imports/\d+/$"))
    expect(status.get_by_test_id("import-ready")).to_contain_text("3 row(s) checked, no errors")
    expect(status.get_by_test_id("create-macs")).to_have_text("3")
    status.get_by_text("Show").click()
    preview = status.get_by_test_id("import-summary").locator("li")
    expect(preview).to_have_text(
        ["Row 2: new 0C1105ABCD10", "Row 3: new 0C1105ABCD11", "Row 4: new 0C1105ABCD12"]
    )
    assert not MacAddress.objects.filter(mac__in=["0C1105ABCD10", "0C1105ABCD11"]).exists()
    screenshot(page, "mac-import-preview.png")

    # ... confirmed: every MAC is added, and the page says how many.
    status.get_by_test_id("confirm-import").click()
    expect(status.get_by_test_id("import-done")).to_contain_text("3 MACs added")
    expect(status.get_by_test_id("confirm-import")).to_have_count(0)
    status.get_by_role("link", name="MAC Library").click()
    expect(page).to_have_url(re.compile(r"/mac-library/$"))
    for mac in ("0C1105ABCD10", "0C1105ABCD11", "0C1105ABCD12"):
        expect(mac_row(page, mac)).to_contain_text("inst_a")
    expect(mac_rows(page)).to_have_count(5)
    expect(page.get_by_test_id("in-all")).to_have_text("5 In All")
    screenshot(page, "mac-library.png")

    # --- Search: partial, lower case, with separators ---
    page.get_by_label("MAC", exact=True).fill("ab:cd:1")
    page.get_by_role("button", name="Search").click()
    expect(mac_rows(page)).to_have_count(3)
    expect(page.get_by_test_id("mac-table")).not_to_contain_text(world.mac_a.mac)
    page.get_by_label("MAC", exact=True).fill("")
    page.get_by_role("button", name="Search").click()
    expect(mac_rows(page)).to_have_count(5)

    # --- Remove: refused while bound (said before the click, naming the device), done when unbound ---
    modal = open_modal(page, page.get_by_label(f"Remove {world.mac_a.mac}"), "Remove MAC")
    expect(modal.get_by_test_id("delete-refusal")).to_contain_text(
        f"{world.mac_a.mac} is bound to the device “Alpha Gate” (Alpha Gardens, Public Area)."
    )
    expect(modal.get_by_role("button", name="Remove")).to_be_disabled()
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    expect(mac_row(page, world.mac_a.mac)).to_be_visible()

    modal = open_modal(page, page.get_by_label("Remove 0C1105ABCD01"), "Remove MAC")
    modal.get_by_role("button", name="Remove").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("0C1105ABCD01 was removed from the MAC library.")
    expect(mac_row(page, "0C1105ABCD01")).to_have_count(0)
    expect(mac_rows(page)).to_have_count(4)
    assert set(MacAddress.objects.filter(installer=a).values_list("mac", flat=True)) == {
        world.mac_a.mac,
        "0C1105ABCD10",
        "0C1105ABCD11",
        "0C1105ABCD12",
    }


def test_distributor_registers_a_mac_for_its_installer(live_server, page, world, log_in):
    log_in("dist_a")
    page.get_by_test_id("nav-mac-library").click()
    expect(mac_row(page, world.mac_a.mac)).to_contain_text("inst_a")
    modal = open_modal(page, page.get_by_role("link", name="New"), "New MAC")
    modal.get_by_label("Installer").select_option(label="inst_a")
    modal.get_by_label("MAC").fill("0C1105ABCE01")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    expect(mac_row(page, "0C1105ABCE01")).to_contain_text("inst_a")
    entry = MacAddress.objects.get(mac="0C1105ABCE01")
    assert (entry.installer, entry.added_by) == (world.installer_a, world.distributor_a)
