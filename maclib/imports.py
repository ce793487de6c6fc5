"""The MAC template: reading an uploaded .xlsx into (row, MAC) pairs, and building the template.

Only the file is checked here (size, a real .xlsx without macros, the "MAC" header, no formulas);
what a MAC must be and whether it may be added is the service's (`services.mac_import`).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from openpyxl import Workbook, load_workbook

from .services import RowError

MAX_FILE_BYTES = 5 * 1024 * 1024
# A 5 MB zip can unpack to far more; the template of MAX_MACS rows unpacks to under 2 MB.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_MACS = 20_000
# Columns read per row: the MAC header may sit in any of A-Z, the rest of the row is ignored.
MAX_COLUMNS = 26
HEADER = "MAC"
SAMPLE_MACS = ("0C11050893CA", "0C11050893CB", "0C11050893CC")
TEMPLATE_FILENAME = "MAC_Template.xlsx"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NOT_XLSX = "The file is not an Excel workbook (.xlsx). Download the MAC template and fill it in."
MACROS = "Workbooks with macros (.xlsm) are not accepted: save the MAC template as an .xlsx workbook."


@dataclass
class MacSheet:
    """The MACs of an uploaded template: (Excel row number, cell value), and cells refused as read."""

    rows: list[tuple[int, object]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _check_package(upload) -> None:
    """A real .xlsx: a zip holding a workbook part, no VBA project, not too big once unpacked."""
    name = (getattr(upload, "name", "") or "").lower()
    if name.endswith((".xlsm", ".xltm", ".xlam")):
        raise ValidationError(MACROS, code="macros")
    if getattr(upload, "size", 0) > MAX_FILE_BYTES:
        raise ValidationError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it into smaller files.",
            code="too_large",
        )
    upload.seek(0)
    if not zipfile.is_zipfile(upload):
        raise ValidationError(NOT_XLSX, code="not_xlsx")
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            infos = package.infolist()
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise ValidationError(NOT_XLSX, code="not_xlsx")
            content_types = package.read("[Content_Types].xml")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise ValidationError(NOT_XLSX, code="not_xlsx") from exc
    if any(n.lower().endswith("vbaproject.bin") for n in names) or b"macroEnabled" in content_types:
        raise ValidationError(MACROS, code="macros")
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise ValidationError(
            "The workbook is too large once unpacked; keep only the MAC sheet.", code="too_large"
        )
    if not name.endswith(".xlsx"):
        # Contents first, so an .xlsm renamed to .xlsx is told about macros, not about its name.
        raise ValidationError(NOT_XLSX, code="not_xlsx")


def _header_column(header_row) -> int | None:
    for index, cell in enumerate(header_row):
        if isinstance(cell.value, str) and cell.value.strip().upper() == HEADER:
            return index
    return None


def _cell_value(cell):
    value = cell.value
    # A MAC of digits only that Excel turned into a number: 1E+11 comes back as a float.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_mac_sheet(upload) -> MacSheet:
    """The MAC column of the first sheet, or a ValidationError saying what is wrong with the file.

    Row numbers are Excel's: the header is row 1, the first MAC row 2. Fully empty rows are skipped.
    """
    _check_package(upload)
    upload.seek(0)
    try:
        workbook = load_workbook(upload, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises anything from KeyError to XML errors on a broken file
        raise ValidationError(NOT_XLSX, code="not_xlsx") from exc
    try:
        return _read_rows(workbook)
    except ValidationError:
        raise
    except Exception as exc:  # a sheet part that is broken further down
        raise ValidationError(NOT_XLSX, code="not_xlsx") from exc
    finally:
        workbook.close()


def _read_rows(workbook) -> MacSheet:
    if not workbook.worksheets:
        raise ValidationError(NOT_XLSX, code="not_xlsx")
    sheet = workbook.worksheets[0]
    # The stored dimension is only a claim ("A1:XFD1048576" would mean a million padded rows).
    sheet.reset_dimensions()
    # Read-only rows come one per Excel row from row 1 on, missing rows filled in as empty ones.
    rows = enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1)
    _, header = next(rows, (1, ()))
    column = _header_column(header)
    if column is None:
        raise ValidationError(
            f'The sheet "{sheet.title}" has no "{HEADER}" header in row 1. '
            "Use the MAC template: MAC in cell A1, one MAC per line below it.",
            code="no_header",
        )
    result = MacSheet()
    filler = None
    for number, row in rows:
        if row is filler or all(cell.value is None or cell.value == "" for cell in row):
            filler = row  # openpyxl repeats one tuple for the missing rows: skip those at once
            continue
        cell = row[column]
        if cell.data_type == "f":
            result.errors.append(
                RowError(number, HEADER, "the cell holds a formula; type the MAC itself, not a formula.")
            )
        else:
            result.rows.append((number, _cell_value(cell)))
        if len(result.rows) + len(result.errors) > MAX_MACS:
            raise ValidationError(
                f"The file holds more than {MAX_MACS:,} MACs; split it into smaller files.",
                code="too_many",
            )
    return result


def mac_template() -> bytes:
    """The MAC template as the spec shows it: "MAC" in A1 and one sample MAC per line below."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "MAC"
    sheet.append([HEADER])
    for mac in SAMPLE_MACS:
        sheet.append([mac])
    column = sheet.column_dimensions["A"]
    column.width = 18
    # Column A formatted as text, so a MAC of digits only typed there keeps its leading zeros.
    column.number_format = "@"
    for row in sheet.iter_rows():
        for cell in row:
            cell.number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
