"""The MAC Library module through the test client: list and search, New, Import, template, Remove.

The rules are tested on the service (test_services.py) and the MAC template's check on the import
job (test_imports.py); here each is driven through its page or dialog, and the answer must show the
message where the user looks and leave the database as it was. An import is upload → its page
(the preview, or every error) → Confirm → done.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from maclib.models import MacAddress, MacImport
from smartplus.models import AuditLog, ImportStatus
from tests.factories import InstallerFactory, make_device, make_mac
from tests.maclib.workbooks import mac_file, upload, with_member, xlsx
from tests.tables import rows

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = "/mac-library/"


def macs_listed(response) -> list[str]:
    return [row.record.mac for row in response.context["table"].page.object_list]


def field_errors(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def library(installer) -> set[str]:
    return set(MacAddress.objects.filter(installer=installer).values_list("mac", flat=True))


# --- the list -------------------------------------------------------------------------------------


def test_list_shows_the_specs_columns_and_owners_newest_first(client, world):
    building_device = make_device(world.community_a, "Block Door", building=world.building_a)
    indoor = make_device(
        world.community_a, "Indoor", building=world.building_a, apartment=world.apartment_a, device_type=2
    )
    free = make_mac(world.installer_a)
    client.force_login(world.installer_a)
    response = client.get(reverse("maclib:mac_list"))
    assert response.status_code == 200
    table = response.context["table"]
    assert [c.header for c in table.columns] == ["MAC", "Installer", "Owner", "Created Time", "Action"]
    listed = rows(response)
    assert [r["MAC"] for r in listed] == [
        free.mac,
        indoor.mac_address.mac,
        building_device.mac_address.mac,
        world.mac_a.mac,
    ]
    assert [r["Owner"] for r in listed] == ["--", "Alpha Block-101", "Alpha Block", "Public Device"]
    assert {r["Installer"] for r in listed} == {"inst_a"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", listed[0]["Created Time"])
    body = response.content.decode()
    assert world.mac_b.mac not in body and "inst_b" not in body
    assert 'data-testid="in-all">4 In All' in body
    assert reverse("maclib:mac_delete", args=[free.pk]) in body


def test_sub_installer_and_acting_distributor_see_the_installers_library(client, world):
    client.force_login(world.sub_a)
    assert macs_listed(client.get(LIST)) == [world.mac_a.mac]


@pytest.mark.parametrize(
    "typed",
    ["aa:bb:0", "AABB0", "aa-bb-0", "aabb0", " Aa:Bb:0 ", "0c:11:05:aa:bb:01", "0C-11-05-AA-BB-01"],
)
def test_search_by_partial_mac_in_any_case_with_or_without_separators(client, world, typed):
    make_mac(world.installer_a, "0C1105AABB01")
    make_mac(world.installer_a, "0C1105AACC01")
    make_mac(world.installer_b, "0C1105AABB02")  # B's: never in A's results
    client.force_login(world.installer_a)
    assert macs_listed(client.get(LIST, {"q": typed})) == ["0C1105AABB01"]


def test_search_without_a_match_lists_nothing(client, world):
    client.force_login(world.installer_a)
    response = client.get(LIST, {"q": "FFFF9"})
    assert macs_listed(response) == []
    assert "No data" in response.content.decode()


def test_bound_and_unbound_filter(client, world):
    free = make_mac(world.installer_a)
    client.force_login(world.installer_a)
    assert macs_listed(client.get(LIST, {"status": "bound"})) == [world.mac_a.mac]
    assert macs_listed(client.get(LIST, {"status": "unbound"})) == [free.mac]
    assert macs_listed(client.get(LIST, {"status": ""})) == [free.mac, world.mac_a.mac]


def test_lines_per_page_and_pages(client, world):
    for _ in range(24):
        make_mac(world.installer_a)
    client.force_login(world.installer_a)
    newest_first = list(
        MacAddress.objects.filter(installer=world.installer_a)
        .order_by("-created", "-pk")
        .values_list("mac", flat=True)
    )
    first = client.get(LIST)
    assert macs_listed(first) == newest_first[:10]
    assert 'data-testid="in-all">25 In All' in first.content.decode()
    assert macs_listed(client.get(LIST, {"page": 3})) == newest_first[20:]
    assert macs_listed(client.get(LIST, {"per_page": 20, "page": 2})) == newest_first[20:]
    assert macs_listed(client.get(LIST, {"sort": "mac"}))[0] == min(newest_first)


def test_created_time_shows_in_the_users_time_zone(client, world):
    entry = make_mac(world.installer_a)
    MacAddress.objects.filter(pk=entry.pk).update(created=dt.datetime(2022, 3, 3, 14, 23, 48, tzinfo=dt.UTC))
    client.force_login(world.installer_a)
    for zone, shown in (
        ("UTC", "2022-03-03 14:23:48"),
        ("Asia/Shanghai", "2022-03-03 22:23:48"),
        ("America/New_York", "2022-03-03 09:23:48"),
    ):
        world.installer_a.time_zone = zone
        world.installer_a.save(update_fields=["time_zone"])
        listed = {r["MAC"]: r["Created Time"] for r in rows(client.get(LIST))}
        assert listed[entry.mac] == shown, zone


def test_super_manager_sees_every_library_but_cannot_add_or_remove(client, world):
    client.force_login(world.superuser)
    response = client.get(LIST)
    assert set(macs_listed(response)) == {world.mac_a.mac, world.mac_b.mac}
    assert [c.header for c in response.context["table"].columns] == [
        "MAC",
        "Installer",
        "Owner",
        "Created Time",
    ]
    body = response.content.decode()
    assert reverse("maclib:mac_add") not in body and reverse("maclib:mac_import") not in body
    assert {r["Owner"] for r in rows(response)} == {"Public Device", "Bravo Block"}


def test_distributor_sees_its_installers_macs_without_their_buildings(client, world):
    building_device = make_device(world.community_a, "Block Door", building=world.building_a)
    other_installer = InstallerFactory(username="inst_a2", distributor=world.distributor_a)
    theirs = make_mac(other_installer)
    client.force_login(world.distributor_a)
    response = client.get(LIST)
    listed = {r["MAC"]: r for r in rows(response)}
    assert set(listed) == {world.mac_a.mac, building_device.mac_address.mac, theirs.mac}
    assert listed[building_device.mac_address.mac]["Owner"] == "Building Device"
    assert listed[world.mac_a.mac]["Owner"] == "Public Device"
    assert listed[theirs.mac]["Installer"] == "inst_a2"
    body = response.content.decode()
    assert "Alpha Block" not in body and "Alpha Gardens" not in body
    # The distributor filters by installer, among its own only.
    choices = [label for _, label in response.context["filterset"].form.fields["installer"].choices]
    assert choices == ["All", "inst_a", "inst_a2"]
    assert macs_listed(client.get(LIST, {"installer": other_installer.pk})) == [theirs.mac]
    assert world.mac_b.mac not in macs_listed(client.get(LIST, {"installer": world.installer_b.pk}))


def test_installers_get_no_installer_filter(client, world):
    client.force_login(world.installer_a)
    assert "installer" not in client.get(LIST).context["filterset"].form.fields


def test_sidebar_links_the_mac_library_for_roles_that_may_view_it(client, world):
    for user, shown in ((world.installer_a, True), (world.distributor_a, True), (world.pm_a, False)):
        client.force_login(user)
        body = client.get(reverse("home"), follow=True).content.decode()
        assert ('data-testid="nav-mac-library"' in body) is shown, user


def test_property_manager_is_refused(client, world):
    client.force_login(world.pm_a)
    assert client.get(LIST).status_code == 403


# --- New ----------------------------------------------------------------------------------------


def test_new_opens_as_a_modal_over_htmx(client, world):
    client.force_login(world.installer_a)
    response = client.get(reverse("maclib:mac_add"), **HTMX)
    body = response.content.decode()
    assert 'class="modal-header"' in body and "New MAC" in body
    assert "installer" not in response.context["form"].fields


def test_new_stores_the_mac_normalised_and_returns_to_the_list(client, world):
    client.force_login(world.installer_a)
    response = client.post(reverse("maclib:mac_add") + f"?next={LIST}?q=AA", {"mac": "0c:11:05-aa:bb:11"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?q=AA"
    entry = MacAddress.objects.get(mac="0C1105AABB11")
    assert (entry.installer, entry.added_by) == (world.installer_a, world.installer_a)
    assert page_messages(client.get(LIST)) == ["0C1105AABB11 was added to the MAC library."]


def test_new_over_htmx_redirects_the_page(client, world):
    client.force_login(world.sub_a)
    response = client.post(reverse("maclib:mac_add"), {"mac": "0C1105AABB12"}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == LIST
    assert MacAddress.objects.get(mac="0C1105AABB12").installer == world.installer_a


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0C1105AABB1", "12 hex digits"),
        ("", "required"),
        ("00-00-00-00-00-00", "reserved address"),
    ],
)
def test_new_with_a_bad_mac_shows_the_message_at_the_field(client, world, typed, message):
    client.force_login(world.installer_a)
    before = MacAddress.objects.count()
    response = client.post(reverse("maclib:mac_add"), {"mac": typed})
    assert response.status_code == 422
    assert message in field_errors(response, "mac")
    htmx = client.post(reverse("maclib:mac_add"), {"mac": typed}, **HTMX)
    assert htmx.status_code == 200 and 'data-field-error="mac"' in htmx.content.decode()
    assert MacAddress.objects.count() == before


def test_new_with_a_mac_in_this_or_another_library(client, world):
    client.force_login(world.installer_a)
    mine = client.post(reverse("maclib:mac_add"), {"mac": world.mac_a.mac.lower()})
    assert field_errors(mine, "mac") == f"{world.mac_a.mac} is already in this MAC library."
    theirs = client.post(reverse("maclib:mac_add"), {"mac": world.mac_b.mac})
    assert field_errors(theirs, "mac") == (
        f"{world.mac_b.mac} cannot be added: it is already registered in a MAC library."
    )
    assert "inst_b" not in theirs.content.decode()


def test_distributor_chooses_one_of_its_own_installers(client, world):
    other_installer = InstallerFactory(username="inst_a2", distributor=world.distributor_a)
    client.force_login(world.distributor_a)
    form = client.get(reverse("maclib:mac_add")).context["form"]
    assert list(form.fields) == ["installer", "mac"]
    assert [label for _, label in form.fields["installer"].choices] == [
        "Select an installer",
        "inst_a",
        "inst_a2",
    ]
    missing = client.post(reverse("maclib:mac_add"), {"mac": "0C1105AABB13"})
    assert "required" in field_errors(missing, "installer")
    foreign = client.post(
        reverse("maclib:mac_add"), {"mac": "0C1105AABB13", "installer": world.installer_b.pk}
    )
    assert "Select a valid choice" in field_errors(foreign, "installer")
    assert not MacAddress.objects.filter(mac="0C1105AABB13").exists()
    ok = client.post(reverse("maclib:mac_add"), {"mac": "0C1105AABB13", "installer": other_installer.pk})
    assert ok.status_code == 302
    entry = MacAddress.objects.get(mac="0C1105AABB13")
    assert (entry.installer, entry.added_by) == (other_installer, world.distributor_a)


# --- Import: upload → the import's page (preview or errors) → Confirm → done -----------------------


def import_post(client, content: bytes, name: str = "macs.xlsx", extra: dict | None = None, **headers):
    return client.post(
        reverse("maclib:mac_import"), {"file": upload(content, name), **(extra or {})}, **headers
    )


def job_url(name: str, job: MacImport) -> str:
    return reverse(f"maclib:macimport_{name}", args=[job.pk])


def uploaded(client, content: bytes, **kwargs) -> MacImport:
    """Upload a file; the answer sends the user to the new import's page."""
    before = set(MacImport.objects.values_list("pk", flat=True))
    response = import_post(client, content, **kwargs)
    (job,) = MacImport.objects.exclude(pk__in=before)
    assert response.status_code == 302 and response["Location"] == job_url("detail", job)
    return job


def text(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def marked(body: str, name: str) -> str:
    """The markup from inside the element marked data-testid=`name` to the end of the page."""
    assert f'data-testid="{name}"' in body, name
    return body.split(f'data-testid="{name}"', 1)[1].split(">", 1)[1]


def error_rows(body: str) -> list[tuple[str, str, str]]:
    """The errors table of the import's page: (row, column, reason) as shown."""
    table = marked(body, "import-errors").split("</table>")[0]
    return [
        tuple(text(cell) for cell in re.findall(r"<td>(.*?)</td>", tr, re.S))
        for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    ]


def preview_items(body: str) -> list[str]:
    summary = marked(body, "import-summary").split("</details>")[0]
    return [text(li) for li in re.findall(r"<li>(.*?)</li>", summary, re.S)]


def test_import_opens_as_a_multipart_modal_with_the_template_link(client, world):
    client.force_login(world.installer_a)
    body = client.get(reverse("maclib:mac_import"), **HTMX).content.decode()
    assert 'hx-encoding="multipart/form-data"' in body
    assert reverse("maclib:mac_template") in body
    page = client.get(reverse("maclib:mac_import")).content.decode()
    assert 'enctype="multipart/form-data"' in page


def test_a_workbook_without_a_dimension_record_imports(client, world):
    # openpyxl's write-only mode (and other generators) write no <dimension>; it was refused.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("MAC")
    for row in (["MAC"], ["0C1105DD0001"], ["0C1105DD0002"]):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    assert b"dimension" not in zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    client.force_login(world.installer_a)
    job = uploaded(client, out.getvalue())
    assert job.status == ImportStatus.READY
    assert "2 row(s) checked, no errors" in text(client.get(job_url("detail", job)).content.decode())


def test_upload_shows_the_preview_of_the_macs_to_add_and_writes_nothing(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, mac_file("0c:11:05:dd:00:01", "0C-11-05-DD-00-02", "0C1105DD0003"))
    assert (job.status, job.installer, job.user, job.actor) == (
        ImportStatus.READY,
        world.installer_a,
        world.installer_a,
        world.installer_a,
    )
    body = client.get(job_url("detail", job)).content.decode()
    assert "3 row(s) checked, no errors" in text(body)
    assert 'data-testid="create-macs">3</span>' in body
    assert preview_items(body) == [
        "Row 2: new 0C1105DD0001",
        "Row 3: new 0C1105DD0002",
        "Row 4: new 0C1105DD0003",
    ]
    assert f'action="{job_url("confirm", job)}"' in body and 'data-testid="confirm-import"' in body
    assert not library(world.installer_a) & {"0C1105DD0001", "0C1105DD0002", "0C1105DD0003"}


def test_confirm_adds_every_mac_and_the_page_says_how_many(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, mac_file("0c:11:05:dd:00:01", "0C-11-05-DD-00-02", "0C1105DD0003"))
    response = client.post(job_url("confirm", job))
    assert response.status_code == 302 and response["Location"] == job_url("detail", job)
    assert {"0C1105DD0001", "0C1105DD0002", "0C1105DD0003"} <= library(world.installer_a)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.result == [["MACs added", 3]]
    body = client.get(job_url("detail", job)).content.decode()
    done = text(marked(body, "import-done").split("</div>")[0])
    assert done.startswith("Imported 3 row(s)") and done.endswith(": 3 MACs added.")
    assert 'data-testid="confirm-import"' not in body
    assert f'href="{LIST}"' in body


def test_after_confirm_the_page_shows_the_imports_state_not_the_previews_wording(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, mac_file("0c:11:05:dd:00:01", "0C-11-05-DD-00-02"))
    assert "to create" in client.get(job_url("detail", job)).content.decode()
    # Confirmed, a worker yet to finish: the page says it is importing.
    MacImport.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    queued = client.get(job_url("detail", job)).content.decode()
    assert 'data-status="queued"' in queued and "Importing" in queued and "to create" not in queued
    MacImport.objects.filter(pk=job.pk).update(status=ImportStatus.READY)
    client.post(job_url("confirm", job))
    done = client.get(job_url("detail", job)).content.decode()
    assert "to create" not in done and "to update" not in done
    assert re.search(r'data-testid="result-macs-added">2</span> MACs added', done)


def test_confirm_twice_imports_once(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, mac_file("0C1105DD0005", "0C1105DD0006"))
    client.post(job_url("confirm", job))
    macs, entries = MacAddress.objects.count(), AuditLog.objects.count()
    again = client.post(job_url("confirm", job), follow=True)
    assert page_messages(again) == ["This import is not waiting for a confirmation any more."]
    assert (MacAddress.objects.count(), AuditLog.objects.count()) == (macs, entries)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.result == [["MACs added", 2]]


def test_upload_and_confirm_over_htmx_redirect_the_page(client, world):
    client.force_login(world.sub_a)
    response = import_post(client, mac_file("0C1105DD0004"), **HTMX)
    job = MacImport.objects.get()
    assert response.status_code == 204 and response["HX-Redirect"] == job_url("detail", job)
    confirmed = client.post(job_url("confirm", job), **HTMX)
    assert confirmed.status_code == 204 and confirmed["HX-Redirect"] == job_url("detail", job)
    assert "0C1105DD0004" in library(world.installer_a)


def test_upload_with_bad_rows_lists_every_one_and_cannot_be_confirmed(client, world):
    client.force_login(world.installer_a)
    before = library(world.installer_a)
    content = xlsx(
        [
            ["MAC"],
            ["0C1105DD0010"],
            ["0C1105DD001"],
            [None],
            [world.mac_b.mac],
            ["0c1105dd0010"],
            ["=A2"],
            [world.mac_a.mac],
        ]
    )
    job = uploaded(client, content)
    assert job.status == ImportStatus.REJECTED
    body = client.get(job_url("detail", job)).content.decode()
    listed = error_rows(body)
    assert [(row, column) for row, column, _ in listed] == [
        ("3", "MAC"),
        ("5", "MAC"),
        ("6", "MAC"),
        ("7", "MAC"),
        ("8", "MAC"),
    ]
    reasons = [reason for _, _, reason in listed]
    assert "12 hex digits" in reasons[0]
    assert reasons[1] == f"{world.mac_b.mac} cannot be added: it is already registered in a MAC library."
    assert reasons[2] == "0C1105DD0010 is already on row 2 of this file."
    assert "formula" in reasons[3]
    assert reasons[4] == f"{world.mac_a.mac} is already in this MAC library."
    assert "inst_b" not in body
    assert "Nothing was imported: 5 error(s) to correct." in text(body)
    assert 'data-testid="confirm-import"' not in body
    # A confirmation posted anyway is refused and writes nothing.
    refused = client.post(job_url("confirm", job), follow=True)
    assert page_messages(refused) == ["This import is not waiting for a confirmation any more."]
    assert library(world.installer_a) == before


def test_the_errors_download_is_the_file_with_an_error_column(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, xlsx([["MAC"], ["0C1105DD0020"], ["=A2"], ["0C1105DD002"]]), name="my macs.xlsx")
    body = client.get(job_url("detail", job)).content.decode()
    assert f'href="{job_url("errors", job)}"' in body
    response = client.get(job_url("errors", job))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="my macs-errors.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0] == ("MAC", "Error")
    assert table[1] == ("0C1105DD0020", None)
    # The formula comes back as text, with the reason beside it.
    assert table[2][0] == "=A2" and sheet["A3"].data_type == "s"
    assert table[2][1] == "MAC: the cell holds a formula; type the value itself."
    assert table[3][0] == "0C1105DD002" and "12 hex digits" in table[3][1]
    assert not MacAddress.objects.filter(mac="0C1105DD0020").exists()


def test_a_ready_import_has_no_errors_download(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, mac_file("0C1105DD0021"))
    assert client.get(job_url("errors", job)).status_code == 404
    assert job_url("errors", job) not in client.get(job_url("detail", job)).content.decode()


def test_upload_with_only_a_formula_row_bad_adds_nothing(client, world):
    client.force_login(world.installer_a)
    before = MacAddress.objects.count()
    job = uploaded(client, xlsx([["MAC"], ["0C1105DD0020"], ["=A2"]]))
    body = client.get(job_url("detail", job)).content.decode()
    assert error_rows(body) == [("3", "MAC", "the cell holds a formula; type the value itself.")]
    assert MacAddress.objects.count() == before


POLYGLOT_HEAD = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;<html><script>alert(document.domain)</script></html>"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MAC\n0C1105DD0030\n", "macs.csv", "not an Excel workbook"),
        (b"MAC\n0C1105DD0030\n", "macs.xlsx", "not an Excel workbook"),
        (mac_file("0C1105DD0030"), "macs.xlsm", "macros"),
        (with_member(mac_file("0C1105DD0030"), "xl/vbaProject.bin"), "macs.xlsx", "macros"),
        # A GIF/HTML polyglot: the page in front, a valid workbook behind (zipfile still opens it).
        (POLYGLOT_HEAD + mac_file("0C1105DD0030"), "macs.xlsx", "does not start as an Excel workbook"),
    ],
    ids=["csv", "text-renamed", "xlsm", "vba-part", "polyglot"],
)
def test_upload_of_a_wrong_file_says_why_at_the_file_field_and_starts_no_import(
    client, world, content, name, message
):
    client.force_login(world.installer_a)
    response = import_post(client, content, name)
    assert response.status_code == 422
    assert message in field_errors(response, "file")
    htmx = import_post(client, content, name, **HTMX)
    assert htmx.status_code == 200 and 'data-field-error="file"' in htmx.content.decode()
    assert not MacImport.objects.exists()
    assert not MacAddress.objects.filter(mac="0C1105DD0030").exists()


def test_upload_of_a_sheet_without_the_mac_header_is_rejected_on_its_page(client, world):
    client.force_login(world.installer_a)
    job = uploaded(client, xlsx([["Device"], ["0C1105DD0030"]], title="Devices"))
    ((row, column, reason),) = error_rows(client.get(job_url("detail", job)).content.decode())
    assert (row, column) == ("--", "--")
    assert reason.startswith('The sheet "Devices" lacks the column(s) MAC in row 1.')
    assert not MacAddress.objects.filter(mac="0C1105DD0030").exists()


def test_upload_without_a_file_asks_for_one(client, world):
    client.force_login(world.installer_a)
    response = client.post(reverse("maclib:mac_import"), {})
    assert "required" in field_errors(response, "file")
    assert not MacImport.objects.exists()


def test_distributor_imports_for_the_installer_it_chooses(client, world):
    client.force_login(world.distributor_a)
    content = mac_file("0C1105DD0040", "0C1105DD0041")
    missing = import_post(client, content)
    assert "required" in field_errors(missing, "installer")
    foreign = import_post(client, content, extra={"installer": world.installer_b.pk})
    assert "Select a valid choice" in field_errors(foreign, "installer")
    assert not MacImport.objects.exists()
    job = uploaded(client, content, extra={"installer": world.installer_a.pk})
    assert (job.installer, job.user) == (world.installer_a, world.distributor_a)
    client.post(job_url("confirm", job))
    assert {"0C1105DD0040", "0C1105DD0041"} <= library(world.installer_a)
    entry = MacAddress.objects.get(mac="0C1105DD0040")
    assert entry.added_by == world.distributor_a


def test_installer_b_gets_404_on_installer_as_import(client, world):
    client.force_login(world.installer_a)
    ready = uploaded(client, mac_file("0C1105DD0050"))
    rejected = uploaded(client, mac_file("0C1105DD005"))
    client.force_login(world.installer_b)
    assert client.get(job_url("detail", ready)).status_code == 404
    assert client.get(job_url("detail", ready) + "?status=1", **HTMX).status_code == 404
    assert client.post(job_url("confirm", ready)).status_code == 404
    assert client.get(job_url("errors", rejected)).status_code == 404
    assert "macs.xlsx" not in client.get(reverse("maclib:mac_import")).content.decode()
    ready.refresh_from_db()
    assert ready.status == ImportStatus.READY
    assert not MacAddress.objects.filter(mac="0C1105DD0050").exists()


def test_distributor_sees_the_imports_of_its_own_installers_only(client, world):
    other = InstallerFactory(username="inst_a2", distributor=world.distributor_a)
    client.force_login(other)
    theirs = uploaded(client, mac_file("0C1105DD0060"), name="a2.xlsx")
    client.force_login(world.installer_a)
    mine = uploaded(client, mac_file("0C1105DD0061"), name="a.xlsx")
    client.force_login(world.installer_b)
    foreign = uploaded(client, mac_file("0C1105DD0062"), name="b.xlsx")

    client.force_login(world.distributor_a)
    recent = marked(client.get(reverse("maclib:mac_import")).content.decode(), "recent-imports")
    assert job_url("detail", mine) in recent and job_url("detail", theirs) in recent
    assert job_url("detail", foreign) not in recent and "b.xlsx" not in recent
    assert client.get(job_url("detail", mine)).status_code == 200
    assert client.get(job_url("detail", foreign)).status_code == 404
    assert client.post(job_url("confirm", foreign)).status_code == 404
    # Confirming its installer's import is the distributor's to do too.
    client.post(job_url("confirm", theirs))
    assert "0C1105DD0060" in library(other)
    assert not MacAddress.objects.filter(mac="0C1105DD0062").exists()
    client.force_login(world.distributor_other)
    assert client.get(job_url("detail", mine)).status_code == 404


# --- the template -------------------------------------------------------------------------------


def test_template_download_is_an_xlsx_with_the_header_and_sample_rows(client, world):
    client.force_login(world.sub_a)
    response = client.get(reverse("maclib:mac_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="MAC_Template.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert list(sheet.iter_rows(values_only=True)) == [
        ("MAC",),
        ("0C11050893CA",),
        ("0C11050893CB",),
        ("0C11050893CC",),
    ]
    assert reverse("maclib:mac_template") in client.get(LIST).content.decode()


# --- Remove -------------------------------------------------------------------------------------


def test_remove_confirmation_warns_when_the_mac_is_bound(client, world):
    free = make_mac(world.installer_a)
    client.force_login(world.installer_a)
    bound = client.get(reverse("maclib:mac_delete", args=[world.mac_a.pk]), **HTMX).content.decode()
    assert "Remove MAC" in bound and "bound to the device “Alpha Gate” (Alpha Gardens, Public Area)" in bound
    unbound = client.get(reverse("maclib:mac_delete", args=[free.pk])).content.decode()
    assert f"Remove <strong>{free.mac}</strong> from the MAC library of inst_a?" in unbound
    assert "bound to" not in unbound


def test_removing_a_bound_mac_is_refused_with_a_message_naming_the_device(client, world):
    client.force_login(world.installer_a)
    url = reverse("maclib:mac_delete", args=[world.mac_a.pk]) + f"?next={LIST}?q=0C"
    response = client.post(url, follow=True)
    assert response.redirect_chain == [(f"{LIST}?q=0C", 302)]
    (message,) = page_messages(response)
    assert "“Alpha Gate” (Alpha Gardens, Public Area)" in message
    assert 'class="alert alert-danger' in response.content.decode()
    assert MacAddress.objects.filter(pk=world.mac_a.pk).exists()


def test_removing_an_unbound_mac(client, world):
    free = make_mac(world.installer_a)
    client.force_login(world.sub_a)
    response = client.post(reverse("maclib:mac_delete", args=[free.pk]), **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == LIST
    assert not MacAddress.objects.filter(pk=free.pk).exists()
    assert page_messages(client.get(LIST)) == [f"{free.mac} was removed from the MAC library."]


def test_installer_b_cannot_open_or_remove_installer_as_mac(client, world):
    free = make_mac(world.installer_a)
    client.force_login(world.installer_b)
    url = reverse("maclib:mac_delete", args=[free.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert MacAddress.objects.filter(pk=free.pk).exists()


def test_distributor_removes_an_unbound_mac_and_is_refused_a_bound_one_without_names(client, world):
    free = make_mac(world.installer_a)
    client.force_login(world.distributor_a)
    confirm = client.get(reverse("maclib:mac_delete", args=[world.mac_a.pk])).content.decode()
    assert "bound to a device (Public Device)" in confirm and "Alpha Gate" not in confirm
    refused = client.post(reverse("maclib:mac_delete", args=[world.mac_a.pk]), follow=True)
    (message,) = page_messages(refused)
    assert "Alpha" not in message and world.mac_a.mac in message
    client.post(reverse("maclib:mac_delete", args=[free.pk]))
    assert not MacAddress.objects.filter(pk=free.pk).exists()
    assert MacAddress.objects.filter(pk=world.mac_a.pk).exists()
