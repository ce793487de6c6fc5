"""Reading the MAC template (maclib.imports): what a file must be, and the rows it yields.

The MACs' own rules are the service's (test_services.py); here only the file is judged.
"""

from __future__ import annotations

import io
import time

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from maclib import imports
from maclib.imports import MacSheet, mac_template, read_mac_sheet
from maclib.services import RowError
from tests.maclib.workbooks import mac_file, upload, with_member, without_member, xlsx


def read(content: bytes, name: str = "macs.xlsx") -> MacSheet:
    return read_mac_sheet(upload(content, name))


def refusal(content: bytes, name: str = "macs.xlsx") -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        read(content, name)
    return exc.value


# --- rows ---------------------------------------------------------------------------------------


def test_rows_carry_excels_row_numbers_from_2():
    sheet = read(mac_file("0C11050893CA", "0C11050893CB", "0C11050893CC"))
    assert sheet.rows == [(2, "0C11050893CA"), (3, "0C11050893CB"), (4, "0C11050893CC")]
    assert sheet.errors == []


def test_fully_empty_rows_are_skipped_and_numbering_follows_excel():
    content = xlsx([["MAC"], ["0C1105CC0001"], [None], [None, None], ["0C1105CC0002"], [""]])
    assert read(content).rows == [(2, "0C1105CC0001"), (5, "0C1105CC0002")]


def test_rows_far_apart_keep_their_numbers_and_read_quickly():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"] = "MAC"
    sheet["A2"] = "0C1105CC0010"
    sheet["A1000000"] = "0C1105CC0011"
    out = io.BytesIO()
    workbook.save(out)
    started = time.perf_counter()
    assert read(out.getvalue()).rows == [(2, "0C1105CC0010"), (1_000_000, "0C1105CC0011")]
    assert time.perf_counter() - started < 10


def test_a_line_with_other_cells_but_no_mac_is_passed_on_for_the_service_to_refuse():
    content = xlsx([["MAC", "Note"], ["0C1105CC0003", "lobby"], [None, "spare"]])
    assert read(content).rows == [(2, "0C1105CC0003"), (3, None)]


@pytest.mark.parametrize("header", ["MAC", "mac", " Mac "])
def test_the_mac_header_may_sit_in_any_column_and_any_case(header):
    content = xlsx([["Note", header], ["first", "0C1105CC0004"]])
    assert read(content).rows == [(2, "0C1105CC0004")]


def test_a_mac_excel_stored_as_a_number_is_passed_on_as_an_integer():
    assert read(mac_file(112233445566, 112233445567.0)).rows == [(2, 112233445566), (3, 112233445567)]


def test_only_the_first_sheet_is_read():
    content = xlsx([["MAC"], ["0C1105CC0005"]], extra_sheets=2)
    assert read(content).rows == [(2, "0C1105CC0005")]


def test_a_formula_cell_is_a_bad_row_not_a_value():
    content = xlsx([["MAC"], ["0C1105CC0006"], ['="0C1105"&"CC0007"'], ["=A2"]])
    sheet = read(content)
    assert sheet.rows == [(2, "0C1105CC0006")]
    assert [e.row for e in sheet.errors] == [3, 4]
    assert sheet.errors[0] == RowError(3, "MAC", sheet.errors[0].reason)
    assert "formula" in sheet.errors[0].reason


# --- files refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MAC\n0C11050893CA\n", "macs.xlsx"),  # a CSV renamed
        (b"MAC\n0C11050893CA\n", "macs.csv"),
        (b"", "macs.xlsx"),
        (b"PK\x03\x04 not really a zip", "macs.xlsx"),
    ],
)
def test_a_file_that_is_not_a_zip_is_not_an_xlsx(content, name):
    assert refusal(content, name).messages == [imports.NOT_XLSX]


def test_a_zip_without_a_workbook_is_not_an_xlsx():
    content = without_member(mac_file("0C11050893CA"), "xl/workbook.xml")
    assert refusal(content).messages == [imports.NOT_XLSX]
    content = without_member(mac_file("0C11050893CA"), "[Content_Types].xml")
    assert refusal(content).messages == [imports.NOT_XLSX]


def test_an_xlsx_workbook_under_another_name_is_refused():
    assert refusal(mac_file("0C11050893CA"), "macs.zip").messages == [imports.NOT_XLSX]


def test_a_broken_workbook_is_not_an_xlsx():
    content = with_member(
        without_member(mac_file("0C11050893CA"), "xl/workbook.xml"), "xl/workbook.xml", b"<broken"
    )
    assert refusal(content).messages == [imports.NOT_XLSX]


def test_a_macro_enabled_workbook_is_refused_by_name():
    assert refusal(mac_file("0C11050893CA"), "macs.xlsm").messages == [imports.MACROS]


def test_a_workbook_with_a_vba_project_is_refused_whatever_its_name():
    content = with_member(mac_file("0C11050893CA"), "xl/vbaProject.bin", b"\x00" * 64)
    assert refusal(content, "macs.xlsx").messages == [imports.MACROS]


def test_a_file_over_5_mb_is_refused():
    content = mac_file("0C11050893CA")
    big = upload(content)
    big.size = 5 * 1024 * 1024 + 1
    with pytest.raises(ValidationError) as exc:
        read_mac_sheet(big)
    assert "larger than 5 MB" in exc.value.messages[0]


def test_a_file_of_5_mb_exactly_is_not_refused_for_its_size():
    content = mac_file("0C11050893CA")
    exact = upload(content)
    exact.size = 5 * 1024 * 1024
    assert read_mac_sheet(exact).rows == [(2, "0C11050893CA")]


@pytest.mark.parametrize(
    "rows",
    [
        [["MACs"], ["0C11050893CA"]],
        [["Device MAC"], ["0C11050893CA"]],
        [[None], ["MAC"], ["0C11050893CA"]],  # the header belongs in row 1
        [],
    ],
)
def test_a_sheet_without_the_mac_header_in_row_1_is_refused(rows):
    (message,) = refusal(xlsx(rows, title="Devices")).messages
    assert message.startswith('The sheet "Devices" has no "MAC" header in row 1.')


def test_more_macs_than_the_limit_are_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_MACS", 3)
    assert read(mac_file(*[f"0C1105CC00{n:02d}" for n in range(3)])).rows[-1][0] == 4
    (message,) = refusal(mac_file(*[f"0C1105CC00{n:02d}" for n in range(4)])).messages
    assert "more than 3 MACs" in message


def test_a_workbook_that_unpacks_too_big_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_UNPACKED_BYTES", 1000)
    (message,) = refusal(mac_file("0C11050893CA")).messages
    assert "too large once unpacked" in message


# --- the template ---------------------------------------------------------------------------------


def test_the_template_holds_the_header_and_the_specs_sample_rows():
    sheet = load_workbook(io.BytesIO(mac_template())).active
    assert [row for row in sheet.iter_rows(values_only=True)] == [
        ("MAC",),
        ("0C11050893CA",),
        ("0C11050893CB",),
        ("0C11050893CC",),
    ]


def test_the_template_reads_back_as_its_three_sample_rows():
    assert read(mac_template()).rows == [(2, "0C11050893CA"), (3, "0C11050893CB"), (4, "0C11050893CC")]
