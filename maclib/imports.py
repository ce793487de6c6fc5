"""The MAC template: its download, and the importer the shared machinery runs on an upload.

Only the file is read here (smartplus.xlsx does the hardening); what a MAC must be and whether it
may be added is the service's (`services.mac_import_check` / `mac_import`).
"""

from __future__ import annotations

import io

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from smartplus import importing
from smartplus.xlsx import MACROS, MAX_FILE_BYTES, NOT_XLSX, XLSX_CONTENT_TYPE  # noqa: F401

from . import services

MAX_MACS = 20_000
HEADER = "MAC"
SAMPLE_MACS = ("0C11050893CA", "0C11050893CB", "0C11050893CC")
TEMPLATE_FILENAME = "MAC_Template.xlsx"


class MacImporter:
    """Reads, checks and writes an uploaded MAC template (see smartplus.importing)."""

    def read(self, job, progress):
        return importing.read_stored(
            job,
            columns=[HEADER],
            required=[HEADER],
            max_rows=MAX_MACS,
            template=_("the MAC template (MAC in cell A1, one MAC per line below it)"),
            progress=progress,
        )

    def _rows(self, sheet) -> list[tuple[int, object]]:
        # A formula cell is already a bad row of the reader's: not told a second time as "no MAC".
        refused = {error.row for error in sheet.errors}
        return [(number, values[HEADER]) for number, values in sheet.rows if number not in refused]

    def check(self, job, sheet, progress) -> importing.Checked:
        progress(0, phase="Checking the MACs", total=len(sheet.rows))
        rows = self._rows(sheet)
        if sheet.errors and not rows:
            # Only formula rows: the file is not empty, so no "no MAC under the header" either.
            return importing.Checked(summary=importing.Preview(["MACs"]).summary, errors=sheet.errors)
        wanted, errors = services.mac_import_check(installer=job.installer, rows=rows)
        preview = importing.Preview(["MACs"])
        for row, mac in wanted:
            preview.add("MACs", "create", row, mac)
        return importing.Checked(summary=preview.summary, errors=sheet.errors + errors)

    def apply(self, job, sheet, progress) -> dict:
        progress(0, phase="Adding the MACs", total=len(sheet.rows))
        rows = self._rows(sheet)
        if sheet.errors and not rows:
            raise importing.ImportRejected(sheet.errors)
        try:
            count = services.mac_import(actor=job.actor, installer=job.installer, rows=rows)
        except importing.ImportRejected as exc:
            raise importing.ImportRejected(sheet.errors + exc.rows) from exc
        if sheet.errors:
            # The formula cells are bad rows too: raising rolls the other rows' insert back.
            raise importing.ImportRejected(sheet.errors)
        return {"MACs added": count}


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
