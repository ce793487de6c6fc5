"""Export in a real browser: search the MAC library, click Export, and the downloaded workbook holds
the list's header and only the rows the search found."""

from __future__ import annotations

import re

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.factories import make_mac

FOUND = ["0C1105ABCD01", "0C1105ABCD02"]


def test_export_downloads_the_searched_mac_list(live_server, page: Page, world, log_in, tmp_path):
    for mac in [*FOUND, "0C1105EEEE01"]:
        make_mac(world.installer_a, mac)
    log_in("inst_a")
    page.get_by_test_id("nav-mac-library").click()
    expect(page).to_have_url(re.compile(r"/mac-library/$"))

    # The button exports the list as shown: the search is submitted first.
    page.get_by_label("MAC", exact=True).fill("ab:cd")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("mac-table").locator("tbody tr")).to_have_count(2)

    with page.expect_download() as download_info:
        page.get_by_test_id("export").click()
    download = download_info.value
    assert re.fullmatch(r"mac-library-\d{8}-\d{4}\.xlsx", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    sheet = load_workbook(path).worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["MAC", "Installer", "Owner", "Created Time"]
    assert sorted(row[0] for row in rows[1:]) == FOUND
    assert {(row[1], row[2]) for row in rows[1:]} == {("inst_a", None)}
