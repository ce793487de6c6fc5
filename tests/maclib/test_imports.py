"""The MAC template through the shared import machinery (maclib.imports.MacImporter): what the
check finds in a file and previews, and what the confirmed import writes; then the template.

The package checks (macros, not an xlsx, size, zip bombs) are smartplus.xlsx's and are tested in
tests/imports; the MACs' own rules in test_services.py. Here each is seen on the job.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook

from maclib import imports
from maclib.imports import mac_template
from maclib.models import MacAddress, MacImport
from smartplus import importing
from smartplus.models import AuditLog, ImportStatus
from smartplus.xlsx import FORMULA, RowError
from tests.factories import InstallerFactory, make_mac
from tests.maclib.workbooks import mac_file, upload, xlsx

pytestmark = pytest.mark.django_db


def checked(installer, content: bytes, *, actor=None, name: str = "macs.xlsx") -> MacImport:
    """An uploaded file, checked (small files are checked at once, in the request)."""
    actor = actor or installer
    request = SimpleNamespace(user=actor, actor=actor)
    return importing.start(MacImport, request=request, upload=upload(content, name), installer=installer)


def imported(job: MacImport) -> MacImport:
    assert importing.confirm(job)
    job.refresh_from_db()
    return job


def preview(job: MacImport) -> list[tuple[int, str]]:
    """The (row, MAC) pairs the preview lists."""
    ((kind, entry),) = job.summary
    assert kind == "MACs"
    return [(row, mac) for row, action, mac in entry["items"]]


def errors(job: MacImport) -> list[RowError]:
    return importing.row_errors(job)


def library(installer) -> set[str]:
    return set(MacAddress.objects.filter(installer=installer).values_list("mac", flat=True))


# --- the check: rows and Excel's row numbers ------------------------------------------------------


def test_check_previews_every_mac_normalised_with_excels_row_numbers(world):
    job = checked(world.installer_a, mac_file("0c:11:05:08:93:ca", "0C-11-05-08-93-CB", "0C11050893CC"))
    assert job.status == ImportStatus.READY
    assert job.total_rows == 3 and job.errors == []
    assert preview(job) == [(2, "0C11050893CA"), (3, "0C11050893CB"), (4, "0C11050893CC")]
    assert job.summary[0][1]["create"] == 3
    # Checking writes nothing.
    assert not MacAddress.objects.filter(mac__startswith="0C11050893C").exists()


def test_empty_rows_are_skipped_and_numbering_follows_excel(world):
    content = xlsx([["MAC"], ["0C1105CC0001"], [None], [None, None], ["0C1105CC0002"], [""]])
    assert preview(checked(world.installer_a, content)) == [(2, "0C1105CC0001"), (5, "0C1105CC0002")]


def test_rows_far_apart_keep_their_numbers(world):
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"] = "MAC"
    sheet["A2"] = "0C1105CC0010"
    sheet["A1000000"] = "0C1105CC0011"
    out = io.BytesIO()
    workbook.save(out)
    job = checked(world.installer_a, out.getvalue())
    assert preview(job) == [(2, "0C1105CC0010"), (1_000_000, "0C1105CC0011")]


@pytest.mark.parametrize("header", ["MAC", "mac", " Mac "])
def test_the_mac_header_may_sit_in_any_column_and_any_case(world, header):
    job = checked(world.installer_a, xlsx([["Note", header], ["first", "0C1105CC0004"]]))
    assert preview(job) == [(2, "0C1105CC0004")]


def test_only_the_first_sheet_is_read(world):
    job = checked(world.installer_a, xlsx([["MAC"], ["0C1105CC0005"]], extra_sheets=2))
    assert preview(job) == [(2, "0C1105CC0005")]


def test_a_mac_typed_as_digits_and_stored_by_excel_as_a_number_is_that_mac(world):
    job = checked(world.installer_a, mac_file(112233445566, 112233445567.0))
    assert job.status == ImportStatus.READY
    assert preview(job) == [(2, "112233445566"), (3, "112233445567")]
    assert {"112233445566", "112233445567"} <= library(imported(job).installer)


# --- the check: bad rows, each at its row ----------------------------------------------------------


def test_a_formula_cell_is_refused_at_its_row_not_read_as_a_value(world):
    content = xlsx([["MAC"], ["0C1105CC0006"], ['="0C1105"&"CC0007"'], ["=A2"]])
    job = checked(world.installer_a, content)
    assert job.status == ImportStatus.REJECTED
    # Told once, as a formula: not a second time as a missing MAC.
    assert errors(job) == [RowError(3, "MAC", FORMULA), RowError(4, "MAC", FORMULA)]
    assert "formula" in FORMULA


def test_a_file_of_formulas_only_is_told_about_its_formulas_not_that_it_is_empty(world):
    job = checked(world.installer_a, xlsx([["MAC"], ["=B1"], ["=B2"]]))
    assert errors(job) == [RowError(2, "MAC", FORMULA), RowError(3, "MAC", FORMULA)]


def test_a_line_with_other_cells_but_no_mac_is_a_bad_row(world):
    job = checked(world.installer_a, xlsx([["MAC", "Note"], ["0C1105CC0003", "lobby"], [None, "spare"]]))
    assert errors(job) == [RowError(3, "MAC", "Enter the device MAC.")]


def test_a_mac_twice_in_the_file_names_both_rows(world):
    job = checked(world.installer_a, mac_file("0C1105CC0031", "0C1105CC0032", "0c-11-05-cc-00-31"))
    assert errors(job) == [RowError(4, "MAC", "0C1105CC0031 is already on row 2 of this file.")]


def test_a_mac_of_this_library_and_one_registered_elsewhere_are_told_apart_without_a_name(world):
    job = checked(world.installer_a, mac_file(world.mac_a.mac, world.mac_b.mac.lower()))
    assert errors(job) == [
        RowError(2, "MAC", f"{world.mac_a.mac} is already in this MAC library."),
        RowError(3, "MAC", f"{world.mac_b.mac} cannot be added: it is already registered in a MAC library."),
    ]
    assert "inst_b" not in str(job.errors)


def test_every_bad_row_is_reported_in_row_order(world):
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
    job = checked(world.installer_a, content)
    assert [(e.row, e.column) for e in errors(job)] == [
        (3, "MAC"),
        (5, "MAC"),
        (6, "MAC"),
        (7, "MAC"),
        (8, "MAC"),
    ]
    assert job.error_count == 5


def test_a_sheet_without_the_mac_header_in_row_1_is_rejected_naming_the_column(world):
    job = checked(world.installer_a, xlsx([["Device"], ["0C1105CC0040"]], title="Devices"))
    assert job.status == ImportStatus.REJECTED
    ((row, column, reason),) = job.errors
    assert (row, column) == (0, "")
    assert reason.startswith('The sheet "Devices" lacks the column(s) MAC in row 1.')


def test_a_header_without_any_mac_is_a_bad_row_2(world):
    job = checked(world.installer_a, mac_file())
    assert errors(job) == [RowError(2, "MAC", "The file has no MAC under the MAC header.")]


def test_more_macs_than_the_limit_are_refused(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_MACS", 3)
    at_limit = checked(world.installer_a, mac_file(*[f"0C1105CC00{n:02d}" for n in range(3)]))
    assert at_limit.status == ImportStatus.READY and preview(at_limit)[-1][0] == 4
    over = checked(world.installer_a, mac_file(*[f"0C1105CC00{n:02d}" for n in range(4)]))
    assert over.status == ImportStatus.REJECTED
    ((_, _, reason),) = over.errors
    assert "more than 3 rows" in reason


def test_the_default_limit_is_20000_macs():
    assert imports.MAX_MACS == 20_000


# --- the import: all or nothing ---------------------------------------------------------------------


def test_a_confirmed_import_adds_every_mac_for_the_installer_by_the_uploader(world):
    job = imported(checked(world.installer_a, mac_file("0C1105EE0001", "0C1105EE0002"), actor=world.sub_a))
    assert job.status == ImportStatus.DONE
    assert job.result == [["MACs added", 2]]
    added = MacAddress.objects.filter(mac__in=["0C1105EE0001", "0C1105EE0002"])
    assert {(m.installer, m.added_by) for m in added} == {(world.installer_a, world.sub_a)}


def test_a_rejected_job_cannot_be_confirmed_and_writes_nothing(world):
    job = checked(world.installer_a, mac_file("0C1105EE0010", "=A2"))
    assert job.status == ImportStatus.REJECTED
    assert not importing.confirm(job)
    assert not MacAddress.objects.filter(mac="0C1105EE0010").exists()


def test_a_row_that_went_bad_since_the_check_rejects_the_whole_import(world):
    job = checked(world.installer_a, mac_file("0C1105EE0020", "0C1105EE0021", "0C1105EE0022"))
    assert job.status == ImportStatus.READY
    make_mac(world.installer_b, "0C1105EE0021")  # registered elsewhere between check and confirm
    audit_before = AuditLog.objects.count()
    job = imported(job)
    assert job.status == ImportStatus.REJECTED
    assert errors(job) == [
        RowError(3, "MAC", "0C1105EE0021 cannot be added: it is already registered in a MAC library.")
    ]
    assert not MacAddress.objects.filter(mac__in=["0C1105EE0020", "0C1105EE0022"]).exists()
    assert AuditLog.objects.count() == audit_before


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([["0C1105EE0030"], ["=A2"]], [RowError(3, "MAC", FORMULA)]),
        ([["0C1105EE0030"], ["=A2"], ["0C1105EE003"]], [RowError(3, "MAC", FORMULA), "12 hex digits"]),
        ([["=B1"]], [RowError(2, "MAC", FORMULA)]),
    ],
)
def test_a_formula_row_stops_the_import_even_when_the_rest_are_good(world, rows, expected):
    # The check refuses it already; the import must too (a job that got confirmed anyway).
    job = checked(world.installer_a, xlsx([["MAC"], *rows]))
    assert job.status == ImportStatus.REJECTED
    MacImport.objects.filter(pk=job.pk).update(status=ImportStatus.READY, errors=[])
    job = imported(job)
    assert job.status == ImportStatus.REJECTED
    found = errors(job)
    assert len(found) == len(expected)
    for error, wanted in zip(found, expected, strict=True):
        assert error == wanted if isinstance(wanted, RowError) else wanted in error.reason
    assert not MacAddress.objects.filter(mac="0C1105EE0030").exists()
    assert not AuditLog.objects.filter(object_repr__startswith="MAC library import").exists()


def test_a_distributor_imports_for_its_installer_and_not_for_a_foreign_one(world):
    other = InstallerFactory(username="inst_a2", distributor=world.distributor_a)
    job = imported(checked(other, mac_file("0C1105EE0040"), actor=world.distributor_a))
    assert job.status == ImportStatus.DONE
    entry = MacAddress.objects.get(mac="0C1105EE0040")
    assert (entry.installer, entry.added_by) == (other, world.distributor_a)
    # A job for a foreign installer (the form never offers one) is refused by the service.
    foreign = imported(checked(world.installer_b, mac_file("0C1105EE0041"), actor=world.distributor_a))
    assert foreign.status == ImportStatus.FAILED
    assert not MacAddress.objects.filter(mac="0C1105EE0041").exists()


# --- the template ---------------------------------------------------------------------------------


def test_the_template_holds_the_header_and_the_specs_sample_rows():
    sheet = load_workbook(io.BytesIO(mac_template())).active
    assert list(sheet.iter_rows(values_only=True)) == [
        ("MAC",),
        ("0C11050893CA",),
        ("0C11050893CB",),
        ("0C11050893CC",),
    ]
    assert sheet["A1"].number_format == "@"


def test_the_template_checks_as_its_three_sample_rows(world):
    job = checked(world.installer_a, mac_template(), name=imports.TEMPLATE_FILENAME)
    assert job.status == ImportStatus.READY
    assert preview(job) == [(2, "0C11050893CA"), (3, "0C11050893CB"), (4, "0C11050893CC")]
