"""The residents and devices template in a real browser: Download The Template on the dashboard, fill
it in, the community's Import dialog, the preview, Confirm import, the worker's progress, the result;
and a file with bad rows: the errors table and the download with an Error column."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from devices.choices import DeviceType
from devices.models import Device
from maclib.models import MacAddress
from residents.models import Apartment, Resident, ResidentImport
from smartplus.models import ImportStatus
from tests.integration.conftest import celery_worker_real  # noqa: F401 (a real worker, this database's queue)
from tests.workers import Gate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS = 120
BUILDINGS = ("Garden 1", "Garden 2", "Garden 3")
UNKNOWN_MAC = "0C11FFFFFFFF"


def monitor_mac(i: int) -> str:
    return f"0C1105EE{i:04X}"


def rows(count: int) -> list[list]:
    """Template rows: an APT of one of BUILDINGS with its resident and an indoor monitor."""
    return [
        [
            BUILDINGS[i % len(BUILDINGS)],
            str(5001 + i),
            None,
            f"Living Room,{DeviceType.INDOOR_MONITOR},{monitor_mac(i)}",
            f"Imported{i:03d}",
            "Tenant",
        ]
        for i in range(count)
    ]


def download_template(page: Page) -> bytes:
    """Dashboard → Download The Template, caught as the browser's download."""
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    with page.expect_download() as caught:
        page.get_by_test_id("download-template").click()
    download = caught.value
    assert download.suggested_filename == "SmartPlus_Residents_Template.xlsx"
    with open(download.path(), "rb") as f:
        return f.read()


def fill_in(template: bytes, values: list[list]) -> bytes:
    """The downloaded template with `values` from row 2 on, over its sample row, as a user would."""
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["Template"]
    header = [cell.value for cell in sheet[1]]
    assert header[:6] == ["Building", "Apt", "AptName", "Device", "FirstName", "LastName"]
    assert sheet["A2"].value == "Building#2"  # the spec's sample row, overwritten below
    for r, row in enumerate(values, start=2):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def import_file(page: Page, community_name: str, content: bytes) -> None:
    """Dashboard → the community row's Import action → the dialog → upload."""
    page.get_by_label(f"Import residents and devices into {community_name}", exact=True).click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text("Import residents and devices")
    expect(modal.get_by_test_id("template-link")).to_have_text("Download The Template")
    modal.get_by_label(re.compile(r"^(\* )?Template$")).set_input_files(
        {"name": "residents.xlsx", "mimeType": XLSX, "buffer": content}
    )
    modal.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))


@pytest.fixture
def library(world):
    """Room for the rows in Alpha Gardens, and their indoor monitors' MACs in A's library."""
    world.community_a.number_of_apartments = 500
    world.community_a.save(update_fields=["number_of_apartments"])
    MacAddress.objects.bulk_create(
        MacAddress(installer=world.installer_a, mac=monitor_mac(i)) for i in range(ROWS)
    )
    return world


@pytest.mark.usefixtures("celery_worker_real")
def test_template_import_preview_confirm_progress_and_result(
    live_server, page, library, log_in, screenshot, settings, monkeypatch
):
    # The file goes to the worker (the live server would otherwise check it inline), and the
    # worker is held half-way through each step until the page has shown its progress.
    settings.SMARTPLUS_IMPORT_INLINE_BYTES = 1024
    log_in("inst_a")
    content = fill_in(download_template(page), rows(ROWS))
    assert len(content) > settings.SMARTPLUS_IMPORT_INLINE_BYTES

    gate = Gate(monkeypatch, "Checking the rows")
    import_file(page, "Alpha Gardens", content)
    status = page.get_by_test_id("import-status")
    expect(status).to_have_attribute("data-status", ImportStatus.CHECKING)
    expect(page.get_by_test_id("import-progress")).to_be_visible()
    expect(status).to_contain_text(f"Checking the file — Checking the rows: {ROWS // 2} of {ROWS} rows")
    expect(page.get_by_test_id("import-progress")).to_have_attribute("aria-valuenow", "50")
    gate.release.set()

    # --- the preview: counts per kind, nothing written yet ---
    expect(page.get_by_test_id("import-ready")).to_contain_text(f"{ROWS} row(s) checked, no errors.")
    expect(status).to_have_attribute("data-status", ImportStatus.READY)
    expect(page.get_by_test_id("create-buildings")).to_have_text("3")
    expect(page.get_by_test_id("create-apartments")).to_have_text(str(ROWS))
    expect(page.get_by_test_id("create-residents")).to_have_text(str(ROWS))
    expect(page.get_by_test_id("create-devices")).to_have_text(str(ROWS))
    page.locator("[data-kind=residents] summary").click()
    expect(page.locator("[data-kind=residents]")).to_contain_text("Row 2: new Imported000 Tenant (APT 5001)")
    assert not Apartment.objects.filter(number="5001").exists()
    screenshot(page, "import-preview.png")

    # --- confirm: the import's progress, then the result ---
    gate = Gate(monkeypatch, "Checking the rows")
    page.get_by_test_id("confirm-import").click()
    expect(status).to_have_attribute("data-status", ImportStatus.QUEUED)
    expect(status).to_contain_text(f"Importing — Checking the rows: {ROWS // 2} of {ROWS} rows")
    expect(page.get_by_test_id("import-progress")).to_be_visible()
    gate.release.set()
    done = page.get_by_test_id("import-done")
    expect(done).to_contain_text(
        f"Imported {ROWS} row(s)",
    )
    expect(done).to_contain_text(
        f"3 buildings created, {ROWS} apartments created, {ROWS} residents created, {ROWS} devices created."
    )
    expect(status).to_have_attribute("data-status", ImportStatus.DONE)
    expect(page.get_by_test_id("import-progress")).to_have_count(0)

    job = ResidentImport.objects.get()
    assert job.status == ImportStatus.DONE and job.community == library.community_a
    assert (
        Apartment.objects.filter(community=library.community_a, building__name__in=BUILDINGS).count() == ROWS
    )
    assert Resident.objects.filter(last_name="Tenant", community=library.community_a).count() == ROWS
    assert Device.objects.filter(mac_address__mac__in=[monitor_mac(i) for i in range(ROWS)]).count() == ROWS

    # --- the community's Resident and Device page lists the imported residents ---
    page.get_by_role("link", name="Alpha Gardens").last.click()
    expect(page).to_have_url(re.compile(rf"/communities/{library.community_a.pk}/residents/$"))
    page.get_by_label("Search").fill("Imported007")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table")).to_contain_text("Imported007 Tenant")
    expect(page.locator("table")).to_contain_text("5008")


def test_template_import_with_bad_rows_lists_them_and_downloads_them(
    live_server, page, world, log_in, screenshot
):
    MacAddress.objects.bulk_create(
        MacAddress(installer=world.installer_a, mac=monitor_mac(i)) for i in range(4)
    )
    log_in("inst_a")
    values = rows(4)
    values[1][3] = f"Living Room,{DeviceType.INDOOR_MONITOR},{UNKNOWN_MAC}"  # row 3
    values[3][1] = "#12"  # row 5
    import_file(page, "Alpha Gardens", fill_in(download_template(page), values))

    # A small file is checked at once: the page shows the errors, and nothing was written.
    expect(page.get_by_test_id("import-rejected")).to_contain_text(
        "Nothing was imported: 2 error(s) to correct."
    )
    errors = page.get_by_test_id("import-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("td")).to_have_text(
        ["3", "Device", re.compile(rf"{UNKNOWN_MAC} is not in your MAC library")]
    )
    expect(errors.nth(1).locator("td")).to_have_text(["5", "Apt", re.compile(r"#")])
    expect(page.get_by_test_id("confirm-import")).to_have_count(0)
    assert not Apartment.objects.filter(number="5001").exists()
    screenshot(page, "import-errors.png")

    with page.expect_download() as caught:
        page.get_by_test_id("download-errors").click()
    download = caught.value
    assert download.suggested_filename == "residents-errors.xlsx"
    with open(download.path(), "rb") as f:
        sheet = load_workbook(io.BytesIO(f.read())).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert "Error" in header
    error_at = header.index("Error") + 1
    assert UNKNOWN_MAC in sheet.cell(row=3, column=error_at).value
    assert sheet.cell(row=5, column=error_at).value
    assert sheet.cell(row=2, column=error_at).value in (None, "")
    assert sheet.cell(row=3, column=1).value == "Garden 2"  # the user's own rows, kept
