"""The credentials template: its download, and the importer the shared machinery runs on an upload.

Only the cells are read here (smartplus.xlsx does the hardening): a Type, a Devices choice and the
dates are turned into values; whether a row may be added is the service's
(`services.credential_bulk_create`, the rules of a single Add Credential).
"""

from __future__ import annotations

import io
import zoneinfo
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from smartplus import importing
from smartplus.xlsx import RowError, header_key

from . import services
from .choices import CredentialKind, CredentialScope

COLUMNS = ("APT", "Name", "Type", "Code", "Valid From", "Valid Until", "Devices")
REQUIRED = ("APT", "Name", "Type", "Code")
MAX_ROWS = 10_000
TEMPLATE_FILENAME = "SmartPlus_Credentials_Template.xlsx"
SAMPLE_ROWS = (
    ("101", "Lily Zheng", "PIN", "123456", "2026-01-01 08:00", None, "Public"),
    ("101", "Ryan Zheng", "RF Card", "0A1B2C3D", None, "2026-12-31 18:00", "Public"),
)
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
KINDS = {
    **{header_key(label): value for value, label in CredentialKind.choices},
    "pin": CredentialKind.PIN,
    "pincode": CredentialKind.PIN,
    "rfcard": CredentialKind.RF_CARD,
    "card": CredentialKind.RF_CARD,
}
SCOPES = {
    **{header_key(label): value for value, label in CredentialScope.choices},
    "public": CredentialScope.PUBLIC,
    "private": CredentialScope.PRIVATE,
    "personal": CredentialScope.PRIVATE,
}
KIND = "Credentials"


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into a number cell
    return "" if value is None else str(value).strip()


def _moment(value, tz, row: int, column: str, errors: list[RowError]):
    """A date cell (Excel's own, or typed as text) in the community's time zone; None if blank."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        for pattern in DATE_FORMATS:
            try:
                value = datetime.strptime(_text(value), pattern)
                break
            except ValueError:
                continue
        else:
            errors.append(RowError(row, column, _("Write a date as 2026-12-31 or 2026-12-31 18:00.")))
            return None
    return timezone.make_aware(value, tz) if timezone.is_naive(value) else value


def service_rows(community, sheet) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """The sheet's rows as the service takes them, and the cells that are no values."""
    try:
        tz = zoneinfo.ZoneInfo(community.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    errors: list[RowError] = []
    rows = []
    refused = {(e.row, e.column) for e in sheet.errors}  # formula cells: told once, by the reader
    for number, cells in sheet.rows:
        kind = _text(cells.get("Type"))
        scope = _text(cells.get("Devices"))
        data = {
            "apartment": _text(cells.get("APT")),
            "resident": _text(cells.get("Name")),
            "kind": KINDS.get(header_key(kind), kind),
            "code": _text(cells.get("Code")),
            "scope": SCOPES.get(header_key(scope), scope) if scope else CredentialScope.PUBLIC,
        }
        for field, column in (("valid_from", "Valid From"), ("valid_until", "Valid Until")):
            if (number, column) not in refused:
                data[field] = _moment(cells.get(column), tz, number, column, errors)
        rows.append((number, data))
    return rows, errors


class CredentialImporter:
    """Reads, checks and writes an uploaded credentials template (see smartplus.importing)."""

    def read(self, job, progress):
        return importing.read_stored(
            job,
            columns=COLUMNS,
            required=REQUIRED,
            max_rows=MAX_ROWS,
            template=_("the credentials template (Download the template on the credentials page)"),
            progress=progress,
        )

    def _checked(self, job, sheet, *, dry_run: bool):
        rows, errors = service_rows(job.community, sheet)
        errors = sheet.errors + errors
        try:
            created = services.credential_bulk_create(
                actor=job.actor, community=job.community, rows=rows, dry_run=dry_run or bool(errors)
            )
        except importing.ImportRejected as exc:
            return [], errors + exc.rows
        return created, errors

    def check(self, job, sheet, progress) -> importing.Checked:
        progress(0, phase=_("Checking the credentials"), total=len(sheet.rows))
        created, errors = self._checked(job, sheet, dry_run=True)
        preview = importing.Preview([KIND])
        rows = iter(number for number, _cells in sheet.rows)
        for credential in created:
            row = next(rows)
            text = ""
            if preview.shows(KIND):
                who = credential.resident.display_name if credential.resident else ""
                text = f"APT {credential.apartment.number} · {who} · {credential}"
            preview.add(KIND, "create", row, text)
        return importing.Checked(summary=preview.summary, errors=errors)

    def apply(self, job, sheet, progress) -> dict:
        progress(0, phase=_("Adding the credentials"), total=len(sheet.rows))
        created, errors = self._checked(job, sheet, dry_run=False)
        if errors:
            # Nothing was written when a cell was bad; a row refused by the service rolled back.
            raise importing.ImportRejected(errors)
        return {str(_("Credentials added")): len(created)}


# --- the template -------------------------------------------------------------------------------


def _descriptions() -> tuple[tuple[str, str], ...]:
    return (
        ("APT", _("The apartment number, as in the community (e.g. 101).")),
        ("Name", _("The end user's name (family master or family member of that APT), e.g. Lily Zheng.")),
        ("Type", _("PIN or RF Card.")),
        (
            "Code",
            _(
                "A PIN is 4 to 8 digits; a card code 4 to 20 digits or letters A-F. PIN Mode “PIN”: a "
                "PIN is once in the community; “APT+PIN”: once in the APT."
            ),
        ),
        ("Valid From", _("Optional: 2026-12-31 or 2026-12-31 18:00, in the community's time zone.")),
        ("Valid Until", _("Optional, later than Valid From.")),
        (
            "Devices",
            _(
                "Optional: Public (the community's public doors, the default) or Private (the "
                "apartment's own doors; property managers only under Public Area + Private Area)."
            ),
        ),
    )


def template() -> bytes:
    """The template: its columns, two sample rows, drop-downs for Type and Devices, and a sheet
    describing every column. Codes and APTs are text cells (leading zeros stay)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Credentials"
    sheet.append(COLUMNS)
    for sample in SAMPLE_ROWS:
        sheet.append(list(sample))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, name in enumerate(COLUMNS):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = max(14, len(name) + 6)
        if name in ("APT", "Code", "Valid From", "Valid Until"):
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, 2 + len(SAMPLE_ROWS)):
                sheet[f"{letter}{row}"].number_format = "@"
    for letter, choices in (("C", "PIN,RF Card"), ("G", "Public,Private")):
        validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        sheet.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"
    described = workbook.create_sheet("Description")
    described.column_dimensions["A"].width = 16
    described.column_dimensions["B"].width = 100
    described.append([_("Column"), _("Description")])
    for name, text in _descriptions():
        described.append([name, str(text)])
    for row in described.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in described[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
