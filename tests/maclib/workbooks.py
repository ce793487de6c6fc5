"""Workbooks for the MAC import tests, made with openpyxl as a user's spreadsheet program would."""

from __future__ import annotations

import functools
import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(rows: list[list[object]], *, title: str = "Sheet1", extra_sheets: int = 0) -> bytes:
    """A workbook whose first sheet holds `rows` from row 1 on; None leaves a cell empty."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for n in range(extra_sheets):
        workbook.create_sheet(f"Other{n}").append(["MAC"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@functools.cache  # the same bytes each time: a zip's entries carry the time they were made
def mac_file(*macs: object) -> bytes:
    """The MAC template filled in: the header, then one MAC per line."""
    return xlsx([["MAC"], *([mac] for mac in macs)])


def upload(content: bytes, name: str = "macs.xlsx", content_type: str = XLSX) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def with_member(content: bytes, name: str, data: bytes = b"") -> bytes:
    """`content` (a zip) with one more member, e.g. a VBA project."""
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a") as package:
        package.writestr(name, data)
    return buffer.getvalue()


def without_member(content: bytes, name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()
