"""The residents and devices template through its pages: Download The Template, the community's
Import (upload → preview → confirm → result), the errors and their download, the htmx status
block, files queued for a worker, and who may do what.

The rules are tested on the service (test_template_import.py); here the user's round trip and
what each page shows.
"""

from __future__ import annotations

import html
import io
import re

import pytest
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from communities.models import Building, Community
from devices.choices import DeviceType, Place
from devices.models import Device
from devices.template_import import COLUMNS
from maclib.models import MacAddress
from residents.models import Apartment, Resident, ResidentImport
from smartplus import xlsx
from smartplus.models import AuditLog, ImportStatus
from tests.factories import make_mac
from tests.maclib.workbooks import upload, with_member
from tests.maclib.workbooks import xlsx as workbook

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPEC_COLUMNS = (
    "Building",
    "Apt",
    "AptName",
    "Device",
    "FirstName",
    "LastName",
    "Email",
    "MobileNumber",
    "TelephoneCallingCode",
    "1stPhone",
    "2ndPhone",
    "3rdPhone",
    "CallType",
    "WebRelayID",
)


# --- helpers ------------------------------------------------------------------------------------


def import_url(community: Community) -> str:
    return reverse("devices:community_import", args=[community.pk])


def detail_url(job) -> str:
    return reverse("devices:residentimport_detail", args=[job.pk])


def confirm_url(job) -> str:
    return reverse("devices:residentimport_confirm", args=[job.pk])


def errors_url(job) -> str:
    return reverse("devices:residentimport_errors", args=[job.pk])


def filled(*rows: list) -> bytes:
    """The template's header and `rows` (cells in the template's column order)."""
    return workbook([list(COLUMNS), *rows])


def cells(building=None, apt=None, apt_name=None, device=None, first=None, last=None, email=None) -> list:
    return [building, apt, apt_name, device, first, last, email]


def post_file(client, community: Community, content: bytes, name: str = "residents.xlsx", **headers):
    return client.post(import_url(community), {"file": upload(content, name)}, **headers)


def uploaded(client, community: Community, content: bytes, name: str = "residents.xlsx") -> ResidentImport:
    response = post_file(client, community, content, name)
    job = ResidentImport.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == detail_url(job)
    return job


def page_text(response) -> str:
    """The page's visible text, tags removed and spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body)).strip()


def by_testid(response, name: str) -> str:
    """The text of the element marked data-testid=`name` (up to its tag's first closing tag)."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{name}"[^>]*>(.*?)</\1>', response.content.decode(), re.S)
    assert match, name
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", match.group(2)))).strip()


def error_rows(response) -> list[tuple[str, str, str]]:
    table = response.content.decode().split('data-testid="import-errors"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table, re.S)
    return [tuple(html.unescape(c) for c in r) for r in rows]


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def sheet_rows(content: bytes, index: int = 0) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).worksheets[index].iter_rows(values_only=True))


# --- acceptance 1: the template's round trip ------------------------------------------------------


def test_template_round_trip_download_fill_upload_preview_confirm(
    client, world, django_capture_on_commit_callbacks, mailoutbox
):
    w = world
    client.force_login(w.installer_a)

    # Download The Template.
    response = client.get(reverse("devices:template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="SmartPlus_Residents_Template.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Template", "Description"]
    sheet = book["Template"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == SPEC_COLUMNS
    assert rows[1] == ("Building#2", "403", "Ryan", None, "Ryan", "Chen", *[None] * 8)
    assert len(rows) == 2
    (call_types,) = sheet.data_validations.dataValidation
    assert (call_types.type, call_types.formula1, str(call_types.sqref)) == (
        "list",
        '"0,1,2,3,4,5"',
        "M2:M20001",
    )
    description = list(book["Description"].iter_rows(values_only=True))
    first_column = [r[0] for r in description]
    assert set(SPEC_COLUMNS) <= set(first_column)
    at = first_column.index("Device type code")
    assert description[at + 1 : at + 6] == [
        (0, "Multi-tenant door phone"),
        (1, "Single-tenant door phone"),
        (2, "Indoor monitor"),
        (3, "Guard phone"),
        (50, "Access control"),
    ]
    assert ("Example", "Gate2,0,0C11050B9814; Living Room,2,0C11050893C6") in description
    assert any(
        r[0] == "Device format" and "Device name, Device type, Device MAC" in r[1] for r in description
    )
    at = first_column.index("Call type code")
    assert [r[0] for r in description[at + 1 : at + 7]] == [0, 1, 2, 3, 4, 5]
    assert description[at + 6][1] == "Indoor monitors with SmartPlus as backup, finally phone"

    # Fill it in, as an installer would in a spreadsheet program.
    m = [make_mac(w.installer_a).mac for _ in range(8)]
    sheet["D2"] = f"Gate2,0,{m[0]}; Living Room,2,{m[1]}"
    more = [
        ["Building#2", "404", "Lee", f"Kitchen,2,{m[2]}", "Ann", "Lee", "ann@example.test",
         "07400 123456", 44, "020 7946 0000", None, None, 5, 12],
        ["Tower B", "2#101", None, f"Hall,2,{m[3]}", "Bo", "Li", "bo@example.test",
         "138 1234 5678", "+86", None, None, None, 1, None],
        ["Building#2", None, None, f"Lobby,1,{m[4]}; Guard,3,{m[5]}"],
        [None, None, None, f"Main Gate,0,{m[6]}; Reader,50,{m[7]}"],
    ]  # fmt: skip
    for index, values in enumerate(more, start=3):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=index, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    before = Community.objects.get(pk=w.community_a.pk)
    audit = AuditLog.objects.count()

    # Upload: checked at once (a small file), nothing written yet.
    job = uploaded(client, w.community_a, out.getvalue(), "SmartPlus_Residents_Template.xlsx")
    assert job.status == ImportStatus.READY
    assert not Building.objects.filter(community=w.community_a, name="Tower B").exists()
    preview = client.get(detail_url(job))
    assert preview.status_code == 200
    assert "5 row(s) checked, no errors." in by_testid(preview, "import-ready")
    assert {
        kind: by_testid(preview, f"create-{kind}")
        for kind in ("buildings", "apartments", "residents", "devices")
    } == {
        "buildings": "2",
        "apartments": "3",
        "residents": "3",
        "devices": "8",
    }
    text = page_text(preview)
    for item in (
        "Row 2: new Building#2",
        "Row 2: new APT 403 (Building#2) “Ryan”",
        "Row 3: new Ann Lee (APT 404)",
        "Row 4: new Tower B",
        f"Row 5: new Lobby (Single-tenant door phone, {m[4]}) in Building#2",
        f"Row 6: new Main Gate (Multi-tenant door phone, {m[6]}) in Public Area",
    ):
        assert item in text, item
    assert 'data-testid="confirm-import"' in preview.content.decode()
    assert confirm_url(job) in preview.content.decode()

    # Confirm: written at once, the account emails after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_url(job))
    assert response.status_code == 302 and response["Location"] == detail_url(job)
    done = client.get(detail_url(job))
    assert "Imported 5 row(s)" in by_testid(done, "import-done")
    counts = "2 buildings created, 3 apartments created, 3 residents created, 8 devices created."
    assert counts in by_testid(done, "import-done")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.content == b""

    building2 = Building.objects.get(community=w.community_a, name="Building#2")
    tower = Building.objects.get(community=w.community_a, name="Tower B")
    apartments = {
        a.number: (a.building_id, a.name, a.call_type, a.web_relay_id)
        for a in Apartment.objects.filter(community=w.community_a).exclude(pk=w.apartment_a.pk)
    }
    assert apartments == {
        "403": (building2.pk, "Ryan", 0, 0),
        "404": (building2.pk, "Lee", 5, 12),
        "2#101": (tower.pk, "", 1, 0),
    }
    residents = {
        r.apartment.number: (r.first_name, r.last_name, r.email, str(r.country), r.mobile_number, r.landline1)
        for r in Resident.objects.filter(apartment__building__in=[building2, tower]).select_related(
            "apartment"
        )
    }
    assert residents == {
        "403": ("Ryan", "Chen", "", "", "", ""),
        "404": ("Ann", "Lee", "ann@example.test", "GB", "7400123456", "2079460000"),
        "2#101": ("Bo", "Li", "bo@example.test", "CN", "13812345678", ""),
    }
    assert all(r.family_master_id is None for r in Resident.objects.filter(apartment__building=tower))
    devices = {
        d.mac_address.mac: (
            d.name,
            d.place,
            d.building.name if d.building else None,
            d.apartment.number if d.apartment else None,
            d.device_type,
            [r.name for r in d.relays.all()],
        )
        for d in Device.objects.filter(mac_address__mac__in=m).select_related(
            "mac_address", "building", "apartment"
        )
    }
    assert devices == {
        m[0]: ("Gate2", Place.APARTMENT, "Building#2", "403", DeviceType.MULTI_TENANT_DOOR_PHONE, ["Relay1"]),
        m[1]: ("Living Room", Place.APARTMENT, "Building#2", "403", DeviceType.INDOOR_MONITOR, []),
        m[2]: ("Kitchen", Place.APARTMENT, "Building#2", "404", DeviceType.INDOOR_MONITOR, []),
        m[3]: ("Hall", Place.APARTMENT, "Tower B", "2#101", DeviceType.INDOOR_MONITOR, []),
        m[4]: ("Lobby", Place.BUILDING, "Building#2", None, DeviceType.SINGLE_TENANT_DOOR_PHONE, ["Relay1"]),
        m[5]: ("Guard", Place.BUILDING, "Building#2", None, DeviceType.GUARD_PHONE, []),
        m[6]: ("Main Gate", Place.PUBLIC, None, None, DeviceType.MULTI_TENANT_DOOR_PHONE, ["Relay1"]),
        m[7]: ("Reader", Place.PUBLIC, None, None, DeviceType.ACCESS_CONTROL, ["Relay1"]),
    }
    after = Community.objects.get(pk=w.community_a.pk)
    assert (after.apartment_count, after.end_user_count, after.device_count) == (
        before.apartment_count + 3,
        before.end_user_count + 3,
        before.device_count + 8,
    )
    # One "Created" entry per object, as the dialogs write them, in the uploader's name.
    entries = list(AuditLog.objects.order_by("pk")[audit:])
    assert len({e.change_set for e in entries}) == 1  # one change set: the whole import
    assert sorted(e.object_type.model for e in entries) == sorted(
        ["building"] * 2 + ["apartment"] * 3 + ["resident"] * 3 + ["device"] * 8
    )
    assert {(e.action, e.user_id, e.installer_id) for e in entries} == {
        ("create", w.installer_a.pk, w.installer_a.pk)
    }
    assert sorted(mail.to[0] for mail in mailoutbox) == ["ann@example.test", "bo@example.test"]
    # The Resident and Device page shows the new APTs.
    residents_page = page_text(client.get(reverse("residents:community_residents", args=[w.community_a.pk])))
    assert "Ann Lee" in residents_page and "Bo Li" in residents_page


# --- upload -------------------------------------------------------------------------------------


def test_upload_form_offers_the_template_and_takes_a_file(client, world):
    client.force_login(world.installer_a)
    response = client.get(import_url(world.community_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert f'href="{reverse("devices:template")}"' in body and "Download The Template" in body
    modal = client.get(import_url(world.community_a), **HTMX).content.decode()
    assert 'hx-encoding="multipart/form-data"' in modal


def test_upload_over_htmx_redirects_the_page_to_the_import(client, world):
    client.force_login(world.installer_a)
    response = post_file(client, world.community_a, filled(cells("Tower", "12")), **HTMX)
    job = ResidentImport.objects.get()
    assert response.status_code == 204 and response["HX-Redirect"] == detail_url(job)
    assert (job.community_id, job.installer_id, job.user_id, job.actor_id) == (
        world.community_a.pk,
        world.installer_a.pk,
        world.installer_a.pk,
        world.installer_a.pk,
    )


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (with_member(filled(cells("Tower", "12")), "xl/vbaProject.bin"), "residents.xlsx", xlsx.MACROS),
        (filled(cells("Tower", "12")), "residents.xlsm", xlsx.MACROS),
        (b"Building,Apt\nTower,12\n", "residents.xlsx", xlsx.NOT_XLSX),
        (b"PK\x03\x04 not a zip", "residents.xlsx", xlsx.NOT_XLSX),
        (b"\0" * (5 * 1024 * 1024 + 1), "residents.xlsx", xlsx.TOO_LARGE),
    ],
    ids=["xlsm-renamed", "xlsm", "csv-renamed", "not-a-zip", "over-5-mb"],
)
def test_a_wrong_file_is_told_at_the_file_field_and_makes_no_job(client, world, content, name, message):
    client.force_login(world.installer_a)
    response = post_file(client, world.community_a, content, name)
    assert response.status_code == 422
    assert response.context["form"].errors["file"] == [message]
    assert 'data-field-error="file"' in response.content.decode()
    assert not ResidentImport.objects.exists()


def test_upload_without_a_file_asks_for_one(client, world):
    client.force_login(world.installer_a)
    response = client.post(import_url(world.community_a), {})
    assert response.status_code == 422
    assert response.context["form"].errors["file"] == ["This field is required."]
    assert not ResidentImport.objects.exists()


def test_recent_imports_of_the_community_are_listed_on_the_upload_page(client, world):
    client.force_login(world.installer_a)
    first = uploaded(client, world.community_a, filled(cells("Tower", "12")), "first.xlsx")
    second = uploaded(client, world.community_a, filled(cells("Tower", "12a")), "second.xlsx")
    uploaded(client, world.community_a2, filled(cells("Tower", "12")), "elsewhere.xlsx")
    response = client.get(import_url(world.community_a))
    recent = response.content.decode().split('data-testid="recent-imports"')[1]
    assert [job.pk for job in response.context["recent_imports"]] == [second.pk, first.pk]
    assert f'href="{detail_url(second)}">second.xlsx</a> — Errors to correct' in recent
    assert f'href="{detail_url(first)}">first.xlsx</a> — Ready to import' in recent
    assert "elsewhere.xlsx" not in recent


# --- the import's page: preview, confirm, result ------------------------------------------------------


def test_preview_lists_counts_and_items_and_offers_confirm(client, world):
    mac = make_mac(world.installer_a).mac
    client.force_login(world.installer_a)
    job = uploaded(
        client,
        world.community_a,
        filled(
            cells("Alpha Block", "101", "Corner"),
            cells("Tower", "12", None, f"Hall,2,{mac}", "Ann", "Lee"),
        ),
    )
    response = client.get(detail_url(job))
    assert 'data-status="ready"' in response.content.decode()
    assert by_testid(response, "create-apartments") == "1" and by_testid(response, "update-apartments") == "1"
    text = page_text(response)
    assert "Row 2: update APT 101 (Alpha Block)" in text
    assert "Row 3: new APT 12 (Tower)" in text
    assert f"Row 3: new Hall (Indoor monitor, {mac}) in APT 12" in text
    assert "nothing is written until you confirm" in text
    assert 'data-testid="confirm-import"' in response.content.decode()
    assert 'data-testid="download-errors"' not in response.content.decode()
    assert not Apartment.objects.filter(community=world.community_a, number="12").exists()


def test_confirm_imports_and_the_page_shows_the_counts(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, world.community_a, filled(cells("Tower", "12", None, None, "Ann", "Lee")))
    response = client.post(confirm_url(job), follow=True)
    assert response.redirect_chain == [(detail_url(job), 302)]
    assert "Imported 1 row(s)" in by_testid(response, "import-done")
    assert "1 buildings created, 1 apartments created, 1 residents created." in page_text(response)
    assert 'data-testid="confirm-import"' not in response.content.decode()
    assert Resident.objects.filter(apartment__number="12", first_name="Ann").exists()


def test_confirm_over_htmx_redirects_the_page(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, world.community_a, filled(cells("Tower", "12")))
    response = client.post(confirm_url(job), **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == detail_url(job)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE


@pytest.mark.parametrize("status", [ImportStatus.REJECTED, ImportStatus.DONE, ImportStatus.CHECKING])
def test_confirm_of_a_job_that_is_not_ready_says_so_and_imports_nothing(client, world, status):
    client.force_login(world.installer_a)
    job = uploaded(client, world.community_a, filled(cells("Tower", "12")))
    ResidentImport.objects.filter(pk=job.pk).update(status=status)
    response = client.post(confirm_url(job), follow=True)
    assert response.redirect_chain == [(detail_url(job), 302)]
    assert page_messages(response) == ["This import is not waiting for a confirmation any more."]
    job.refresh_from_db()
    assert job.status == status
    assert not Apartment.objects.filter(community=world.community_a, number="12").exists()


def test_confirm_twice_imports_once(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, world.community_a, filled(cells("Tower", "12", None, None, "Ann", "Lee")))
    client.post(confirm_url(job))
    again = client.post(confirm_url(job), follow=True)
    assert page_messages(again) == ["This import is not waiting for a confirmation any more."]
    assert Apartment.objects.filter(community=world.community_a, number="12").count() == 1
    assert Resident.objects.filter(first_name="Ann").count() == 1


def test_confirm_is_post_only(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, world.community_a, filled(cells("Tower", "12")))
    assert client.get(confirm_url(job)).status_code == 405
    job.refresh_from_db()
    assert job.status == ImportStatus.READY


# --- errors: the page and the download --------------------------------------------------------------


def _rejected_job(client, world) -> ResidentImport:
    content = filled(
        cells("Tower", "12", None, None, "Ann", "Lee"),
        cells("Tower", "12a", "N" * 65),
        cells(None, None, None, None, "Bo"),
        cells("Tower", "13", None, None, "Cy", "Wu", "cy@"),
    )
    return uploaded(client, world.community_a, content, "my residents.xlsx")


def test_errors_page_lists_row_column_and_reason_and_offers_the_download(client, world):
    client.force_login(world.installer_a)
    job = _rejected_job(client, world)
    assert job.status == ImportStatus.REJECTED
    response = client.get(detail_url(job))
    assert "Nothing was imported: 4 error(s) to correct." in by_testid(response, "import-rejected")
    assert error_rows(response) == [
        ("3", "Apt", 'Use digits and "#" only, e.g. 2#123.'),
        ("3", "AptName", "Ensure this value has at most 64 characters (it has 65)."),
        ("4", "Apt", "Enter the APT of this row's apartment and resident."),
        ("5", "Email", "Enter a valid email address."),
    ]
    body = response.content.decode()
    assert f'href="{errors_url(job)}"' in body and 'data-testid="download-errors"' in body
    assert f'href="{import_url(world.community_a)}"' in body  # upload a corrected file
    assert 'data-testid="confirm-import"' not in body
    assert not Building.objects.filter(name="Tower").exists()


def test_errors_download_is_the_upload_with_an_error_column(client, world):
    client.force_login(world.installer_a)
    job = _rejected_job(client, world)
    response = client.get(errors_url(job))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="my residents-errors.xlsx"'
    rows = sheet_rows(response.content)
    assert rows[0] == (*SPEC_COLUMNS, "Error")
    assert rows[1] == ("Tower", "12", None, None, "Ann", "Lee", *[None] * 8, None)
    assert rows[2] == (
        "Tower",
        "12a",
        "N" * 65,
        *[None] * 11,
        'Apt: Use digits and "#" only, e.g. 2#123.; '
        "AptName: Ensure this value has at most 64 characters (it has 65).",
    )
    assert rows[3][-1] == "Apt: Enter the APT of this row's apartment and resident."
    assert rows[4][-1] == "Email: Enter a valid email address."
    assert len(rows) == 5


def test_errors_download_of_an_import_without_errors_is_404(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, world.community_a, filled(cells("Tower", "12")))
    assert client.get(errors_url(job)).status_code == 404


def test_an_unreadable_sheet_shows_its_error_without_a_row(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, world.community_a, workbook([["Name", "Unit"], ["Tower", "12"]]))
    assert job.status == ImportStatus.REJECTED
    assert error_rows(client.get(detail_url(job))) == [
        (
            "--",
            "--",
            'The sheet "Sheet1" lacks the column(s) Building, Apt in row 1. Use the template '
            "(Download The Template on the dashboard): its first row names the columns.",
        )
    ]


# --- the status block and files checked by a worker ------------------------------------------------


def test_htmx_status_poll_returns_only_the_status_block(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, world.community_a, filled(cells("Tower", "12")))
    block = client.get(detail_url(job) + "?status=1", **HTMX)
    assert block.status_code == 200
    body = block.content.decode().strip()
    assert body.startswith('<div id="import-status"') and body.endswith("</div>")
    assert "<html" not in body and "<nav" not in body
    assert 'data-status="ready"' in body and "hx-get" not in body  # a settled job is not polled
    full = client.get(detail_url(job) + "?status=1")
    assert "<html" in full.content.decode()


@override_settings(SMARTPLUS_IMPORT_INLINE_BYTES=0)
def test_a_large_file_is_checked_and_imported_by_a_worker(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.installer_a)
    with django_capture_on_commit_callbacks() as callbacks:
        job = uploaded(client, world.community_a, filled(cells("Tower", "12", None, None, "Ann", "Lee")))
    assert job.status == ImportStatus.CHECKING
    assert len(callbacks) == 1
    waiting = client.get(detail_url(job) + "?status=1", **HTMX)
    body = waiting.content.decode()
    assert 'data-status="checking"' in body
    assert f'hx-get="{detail_url(job)}?status=1"' in body and 'hx-trigger="every 1s"' in body
    assert "Checking the file — Waiting for a worker" in page_text(waiting)

    callbacks[0]()  # the broker delivers the task (Celery runs eagerly in tests)
    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    ready = client.get(detail_url(job) + "?status=1", **HTMX)
    assert 'data-testid="confirm-import"' in ready.content.decode()

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(confirm_url(job))
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    assert "Importing — Waiting for a worker" in page_text(client.get(detail_url(job) + "?status=1", **HTMX))
    assert not Apartment.objects.filter(community=world.community_a, number="12").exists()
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert Resident.objects.filter(apartment__number="12", first_name="Ann").exists()


# --- who may do what ------------------------------------------------------------------------------


def test_installer_b_gets_404_for_installer_as_import_pages(client, world):
    w = world
    client.force_login(w.installer_a)
    ready = uploaded(client, w.community_a, filled(cells("Tower", "12")))
    rejected = _rejected_job(client, w)
    client.force_login(w.installer_b)
    assert client.get(detail_url(ready)).status_code == 404
    assert client.get(detail_url(ready) + "?status=1", **HTMX).status_code == 404
    assert client.post(confirm_url(ready)).status_code == 404
    assert client.get(errors_url(rejected)).status_code == 404
    assert client.get(import_url(w.community_a)).status_code == 404
    assert post_file(client, w.community_a, filled(cells("Tower", "13"))).status_code == 404
    ready.refresh_from_db()
    assert ready.status == ImportStatus.READY
    assert ResidentImport.objects.count() == 2
    assert not Apartment.objects.filter(community=w.community_a, number__in=["12", "13"]).exists()


def test_installer_b_does_not_see_installer_as_imports_in_its_recent_list(client, world):
    client.force_login(world.installer_a)
    uploaded(client, world.community_a, filled(cells("Tower", "12")), "alpha.xlsx")
    client.force_login(world.installer_b)
    response = client.get(import_url(world.community_b))
    assert list(response.context["recent_imports"]) == []
    assert "alpha.xlsx" not in response.content.decode()


def test_sub_installer_imports_into_the_installers_community(client, world):
    client.force_login(world.sub_a)
    assert client.get(reverse("devices:template")).status_code == 200
    job = uploaded(client, world.community_a, filled(cells("Tower", "12")))
    assert client.post(confirm_url(job)).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.user_id == world.sub_a.pk


def test_property_manager_may_not_download_the_template_or_upload(client, world):
    client.force_login(world.pm_a)
    assert client.get(reverse("devices:template")).status_code == 403
    assert client.get(import_url(world.community_a)).status_code == 403
    assert post_file(client, world.community_a, filled(cells("Tower", "12"))).status_code == 403
    assert not ResidentImport.objects.exists()


def test_anonymous_is_sent_to_log_in(client, world):
    for url in (reverse("devices:template"), import_url(world.community_a)):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_dashboard_offers_the_template_and_an_import_per_community_to_the_installer(client, world):
    client.force_login(world.installer_a)
    response = client.get(reverse("communities:dashboard"))
    body = response.content.decode()
    assert "Download The Template" in by_testid(response, "download-template")
    assert f'href="{reverse("devices:template")}" download data-testid="download-template"' in body
    imports = re.findall(r'href="([^"]+)"[^>]*data-testid="import-community"', body)
    assert sorted(imports) == sorted(import_url(c) for c in (world.community_a, world.community_a2))


def test_dashboard_offers_no_template_and_no_import_to_a_property_manager(client, world):
    client.force_login(world.pm_a)
    body = client.get(reverse("communities:dashboard")).content.decode()
    assert "Alpha Gardens" in body
    assert "Download The Template" not in body and 'data-testid="download-template"' not in body
    assert 'data-testid="import-community"' not in body
    assert reverse("devices:template") not in body


def test_library_is_untouched_by_a_rejected_import(client, world):
    mac = make_mac(world.installer_a)
    client.force_login(world.installer_a)
    job = uploaded(
        client,
        world.community_a,
        filled(cells("Tower", "12", None, f"Hall,2,{mac.mac}"), cells("Tower", "1234567")),
    )
    assert job.status == ImportStatus.REJECTED
    assert client.post(confirm_url(job)).status_code == 302
    assert not Device.objects.filter(mac_address=mac).exists()
    assert MacAddress.objects.get(pk=mac.pk).installer_id == world.installer_a.pk
