"""Excel workbooks in and out: the hardened reader of uploaded templates, and the writer of
templates, exports and error files.

Reading trusts nothing in an upload. Before openpyxl sees a byte, the package is checked: size,
a real .xlsx (a zip from its first byte, holding a workbook part, whatever the file is called),
no macros, and a zip-bomb guard on the central directory (entry count, total unpacked size,
compression ratio). Each entry is then inflated once, in small chunks, to prove it holds no more
than its directory declares, so those figures bound what openpyxl reads, and its row records
are counted against MAX_SHEET_ROWS, which bounds what openpyxl keeps while it streams a sheet.
XML goes through defusedxml (entities refused; see `defusedxml_active`), and formula cells are
refused where they stand.

Writing neutralises formula injection: a text starting with =, +, -, @, a tab or a carriage
return is written as a text cell with Excel's quote prefix, so it opens as the text it is.
"""

from __future__ import annotations

import copy
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, gettext_noop
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from .bulk import full_collections_deferred

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_ACCEPT = f".xlsx,{XLSX_CONTENT_TYPE}"

MAX_FILE_BYTES = 5 * 1024 * 1024
# A template of 20,000 full rows unpacks to about 10 MB; a zip bomb is refused long before.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
# A workbook from Excel or LibreOffice holds 10-30 parts; a bomb of many small parts is refused.
MAX_ENTRIES = 200
# Sheet XML compresses 5-30 times; a part inflating more than this is built to explode.
MAX_RATIO = 150
RATIO_FROM_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
# Row records in one part, empty ones included. openpyxl's streaming parser keeps every row
# element it has read (cleared, about 100 bytes each) until the sheet ends; a sheet without a
# <dimension> record is also parsed once whole while the workbook opens. The templates take
# 20,000 rows; 100,000 records cost openpyxl about 10 MB.
MAX_SHEET_ROWS = 100_000
MAX_COLUMNS = 40
ERROR_COLUMN = "Error"
# The error file stops here whatever the sheet claims (the templates take 20,000 rows).
MAX_ERROR_FILE_ROWS = 50_000

# The messages are marked for translation here and translated where they are raised (gettext), so the
# constants stay the English text the tests and the stored errors compare with.
NOT_XLSX = gettext_noop("The file is not an Excel workbook (.xlsx). Download the template and fill it in.")
# A zip after other bytes (an HTML or GIF page with a zip appended) still opens as a zip.
NOT_ZIP_START = gettext_noop(
    "The file does not start as an Excel workbook does: something else is put in front of it. "
    "Save it again from Excel as an .xlsx workbook."
)
ZIP_SIGNATURE = b"PK\x03\x04"
MACROS = gettext_noop(
    "Workbooks with macros (.xlsm) are not accepted: save the template as an .xlsx workbook."
)
_TOO_LARGE = gettext_noop("The file is larger than %(size)s MB; split it into smaller files.")
_TOO_LARGE_PARAMS = {"size": MAX_FILE_BYTES // (1024 * 1024)}
TOO_LARGE = _TOO_LARGE % _TOO_LARGE_PARAMS
UNPACKED = gettext_noop(
    "The workbook is too large once unpacked; keep only the template's sheet and split the rows."
)
BOMB = gettext_noop("The workbook is compressed suspiciously much (a zip bomb?); save it again from Excel.")
_TOO_MANY_ROWS = gettext_noop(
    "The workbook holds more than %(rows)s rows, empty ones included; "
    "delete the empty rows below the data or split the file."
)
_TOO_MANY_ROWS_PARAMS = {"rows": f"{MAX_SHEET_ROWS:,}"}
TOO_MANY_ROWS = _TOO_MANY_ROWS % _TOO_MANY_ROWS_PARAMS
ENTITIES = gettext_noop(
    "The workbook contains XML entity declarations, which are refused for safety; "
    "save it again from Excel as an .xlsx workbook."
)
FORMULA = gettext_noop("the cell holds a formula; type the value itself.")

# Text that a spreadsheet program could take for a formula (OWASP "CSV injection").
UNSAFE_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _translated(reason: str) -> str:
    """A stored reason in the active language when it is one of the marked messages (an empty
    text stays empty: gettext("") would return the catalogue's header)."""
    return gettext(reason) if reason else reason


@dataclass(frozen=True)
class RowError:
    """One problem of an uploaded row: Excel's row number, the column's header, and why."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        if not self.row:
            if not self.column:
                return _translated(self.reason)
            return gettext("Column %(column)s: %(reason)s") % {
                "column": self.column,
                "reason": _translated(self.reason),
            }
        return gettext("Row %(row)s, column %(column)s: %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "reason": _translated(self.reason),
        }


@dataclass
class Sheet:
    """The rows of an uploaded template: Excel row number and {column: value}, empty rows skipped.

    Values are str (stripped), int, float, bool or datetime; an empty cell is None. `errors`
    holds the cells refused while reading (formulas).
    """

    title: str
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def defusedxml_active() -> bool:
    """openpyxl parses through defusedxml (entities refused) and not through lxml."""
    import openpyxl.xml

    return bool(openpyxl.xml.DEFUSEDXML) and not openpyxl.xml.LXML


def header_key(text: object) -> str:
    """ "Apt Name", "AptName" and "apt_name" are one column."""
    return re.sub(r"[\s_\-]", "", str(text)).lower()


# --- reading -----------------------------------------------------------------------------------


def check_package(upload) -> None:
    """A real .xlsx that is safe to open, or a ValidationError saying what is wrong with it."""
    name = (getattr(upload, "name", "") or "").lower()
    if name.endswith((".xlsm", ".xltm", ".xlam")):
        raise ValidationError(gettext(MACROS), code="macros")
    if (getattr(upload, "size", 0) or 0) > MAX_FILE_BYTES:
        raise ValidationError(gettext(_TOO_LARGE) % _TOO_LARGE_PARAMS, code="too_large")
    upload.seek(0)
    if not zipfile.is_zipfile(upload):
        raise ValidationError(gettext(NOT_XLSX), code="not_xlsx")
    upload.seek(0)
    # is_zipfile finds the directory at the end; Excel's files start with their first entry.
    if upload.read(len(ZIP_SIGNATURE)) != ZIP_SIGNATURE:
        raise ValidationError(gettext(NOT_ZIP_START), code="not_xlsx")
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            infos = package.infolist()
            if len(infos) > MAX_ENTRIES:
                raise ValidationError(gettext(BOMB), code="zip_bomb")
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise ValidationError(gettext(NOT_XLSX), code="not_xlsx")
            _check_sizes(package, infos)
            content_types = package.read("[Content_Types].xml")
    # RuntimeError: an entry flagged as encrypted (zipfile asks for a password).
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, NotImplementedError, RuntimeError) as exc:
        raise ValidationError(gettext(NOT_XLSX), code="not_xlsx") from exc
    if any(n.lower().endswith("vbaproject.bin") for n in names) or b"macroEnabled" in content_types:
        raise ValidationError(gettext(MACROS), code="macros")
    if not name.endswith(".xlsx"):
        # Contents first, so an .xlsm renamed to .xlsx is told about macros, not about its name.
        raise ValidationError(gettext(NOT_XLSX), code="not_xlsx")


def _check_sizes(package, infos) -> None:
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise ValidationError(gettext(UNPACKED), code="too_large")
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # Excel writes no other; zipfile inflates bzip2 and LZMA with no bound on the output.
            raise ValidationError(gettext(NOT_XLSX), code="not_xlsx")
        if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ValidationError(gettext(BOMB), code="zip_bomb")
    for info in infos:
        _check_inflated(package, info)


def _check_inflated(package, info) -> None:
    """The entry inflates to no more than its declared size. zipfile stops delivering there, but its
    read() without a size (openpyxl's for most parts) first inflates the whole compressed stream: a
    part declared at 4 KB could take gigabytes of memory. Read here in small chunks instead.

    Its row records are counted on the way. Every part is, whatever its name: openpyxl finds the
    sheets through the workbook's relationships, which may point anywhere."""
    probe = copy.copy(info)
    # Room past the declared size, so that a lie is seen before zipfile's own end (and CRC check).
    probe.file_size = info.file_size + _CHUNK + 1
    inflated = rows = 0
    carry = b""
    with package.open(probe) as stream:
        while chunk := stream.read(_CHUNK):
            inflated += len(chunk)
            if inflated > info.file_size:
                raise ValidationError(gettext(BOMB), code="zip_bomb")
            # A tag cut by the chunk's end is counted with the next chunk.
            data = carry + chunk
            cut = data.rfind(b"<", max(len(data) - _TAG_TAIL, 0))
            cut = len(data) if cut == -1 else cut
            rows += len(_ROW.findall(data, 0, cut))
            carry = data[cut:]
            if rows > MAX_SHEET_ROWS:
                raise ValidationError(gettext(_TOO_MANY_ROWS) % _TOO_MANY_ROWS_PARAMS, code="too_many")
    if rows + len(_ROW.findall(carry)) > MAX_SHEET_ROWS:
        raise ValidationError(gettext(_TOO_MANY_ROWS) % _TOO_MANY_ROWS_PARAMS, code="too_many")


# What openpyxl reads an array or data table formula as (other formulas read as "=..." texts).
_FORMULA_VALUES = (ArrayFormula, DataTableFormula)

# A row record's start tag, <row ...> or <x:row ...> (not <rowBreaks>); a tag is this short.
_ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
_TAG_TAIL = 64


def _plain(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    # A number Excel stored as 403.0 is the 403 that was typed.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@full_collections_deferred()
def read_sheet(
    upload,
    *,
    columns: Sequence[str],
    required: Sequence[str] = (),
    max_rows: int,
    template: str = "the template",
    progress: Callable[[int], None] | None = None,
) -> Sheet:
    """The first sheet of an uploaded template, read by its header row, or a ValidationError.

    `columns` are the template's headers (matched ignoring case, spaces and underscores; others
    are ignored); `required` must all be present. Row numbers are Excel's: the header is row 1.
    """
    check_package(upload)
    upload.seek(0)
    try:
        workbook = load_workbook(upload, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises anything from KeyError to XML errors on a broken file
        raise _unreadable(exc) from exc
    try:
        return _read(workbook, columns, required, max_rows, template, progress)
    except ValidationError:
        raise
    except Exception as exc:  # a sheet part that is broken further down
        raise _unreadable(exc) from exc
    finally:
        workbook.close()


def _unreadable(exc: BaseException) -> ValidationError:
    """ENTITIES if defusedxml refused the XML, else NOT_XLSX. openpyxl re-raises a defusedxml
    error met while loading as a plain ValueError of its own, so the whole chain is searched."""
    from defusedxml import DefusedXmlException

    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, DefusedXmlException):
            return ValidationError(gettext(ENTITIES), code="xml_entities")
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return ValidationError(gettext(NOT_XLSX), code="not_xlsx")


class _MaybeFormula(Exception):
    """A value read without cell types could be a formula's (see `_read`)."""


def _read(workbook, columns, required, max_rows, template, progress) -> Sheet:
    if not workbook.worksheets:
        raise ValidationError(gettext(NOT_XLSX), code="not_xlsx")
    sheet = workbook.worksheets[0]
    # The stored dimension is only a claim ("A1:XFD1048576" would mean a million padded rows).
    sheet.reset_dimensions()
    # Values first: the cell objects and reading them cost a tenth of the read. A formula reads
    # as its text ("=A1+1") or as an array formula, which a typed text can look like too; a value
    # that could be one sends the sheet through the typed read, which tells them apart by type.
    try:
        return _read_rows(sheet, columns, required, max_rows, template, progress, typed=False)
    except _MaybeFormula:
        return _read_rows(sheet, columns, required, max_rows, template, progress, typed=True)


def _typed_rows(sheet):
    """Per row: its values and the indexes of its formula cells. openpyxl yields one tuple for
    every missing row; each of those gets one entry too, so they are still skipped at once."""
    empty_row = empty_entry = None
    for row in sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS):
        if row is empty_row:
            yield empty_entry
            continue
        formulas = frozenset(i for i, cell in enumerate(row) if cell.data_type == "f")
        entry = (tuple(cell.value for cell in row), formulas)
        if all(cell.value is None for cell in row):
            empty_row, empty_entry = row, entry
        yield entry


def _read_rows(sheet, columns, required, max_rows, template, progress, *, typed: bool) -> Sheet:
    # Read-only rows come one per Excel row from row 1 on, missing rows filled in as empty ones.
    rows = enumerate(_typed_rows(sheet), start=1) if typed else _values(sheet)
    _, header = next(rows, (1, ((), frozenset()) if typed else ()))
    if typed:
        header = header[0]
    wanted = {header_key(c): c for c in columns}
    at: dict[str, int] = {}
    for index, value in enumerate(header):
        column = wanted.get(header_key(value)) if value is not None else None
        if column is not None and column not in at:
            at[column] = index
    missing = [c for c in required if c not in at]
    if missing:
        raise ValidationError(
            gettext(
                'The sheet "%(sheet)s" lacks the column(s) %(columns)s in row 1. '
                "Use %(template)s: its first row names the columns."
            )
            % {"sheet": sheet.title, "columns": ", ".join(missing), "template": template},
            code="no_header",
        )
    result = Sheet(title=sheet.title)
    positions = list(at.items())
    # The "Error" column of a downloaded error file: a row holding nothing else is no data.
    ignored = next(
        (i for i, v in enumerate(header) if v is not None and header_key(v) == header_key(ERROR_COLUMN)),
        None,
    )
    filler = None
    for number, entry in rows:
        if entry is filler:
            continue  # openpyxl repeats one tuple for the missing rows: skip those at once
        row, formulas = entry if typed else (entry, ())
        data = row if ignored is None else row[:ignored] + row[ignored + 1 :]
        # Any true value is data; else only a 0 or False is (the cheap test first).
        if not any(data) and all(v is None or v == "" for v in data):
            if ignored is None or ignored >= len(row) or row[ignored] is None:
                filler = entry
            continue
        values = {}
        for column, index in positions:
            value = row[index] if index < len(row) else None
            if typed:
                if index in formulas:
                    result.errors.append(RowError(number, column, FORMULA))
                    value = None
            elif (isinstance(value, str) and value.startswith("=")) or isinstance(value, _FORMULA_VALUES):
                raise _MaybeFormula
            values[column] = _plain(value)
        result.rows.append((number, values))
        if len(result.rows) > max_rows:
            raise ValidationError(
                gettext("The file holds more than %(rows)s rows; split it into smaller files.")
                % {"rows": f"{max_rows:,}"},
                code="too_many",
            )
        if progress is not None and len(result.rows) % 1000 == 0:
            progress(len(result.rows))
    return result


# --- writing -----------------------------------------------------------------------------------


def neutralise(cell) -> None:
    """Keep a text that looks like a formula a text: string type and Excel's quote prefix."""
    value = cell.value
    if isinstance(value, str) and value.startswith(UNSAFE_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True


def _cell(sheet, value, *, bold: bool = False):
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    # Text in a cell is limited to 32,767 characters.
    if isinstance(value, str) and len(value) > 32_767:
        value = value[:32_767]
    cell = WriteOnlyCell(sheet, value=value)
    neutralise(cell)
    if bold:
        cell.font = Font(bold=True)
    return cell


def workbook_bytes(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str = "Sheet1",
    widths: Sequence[int] | None = None,
    size: tuple[int, int] | None = None,
) -> bytes:
    """One sheet: a bold header row, then the rows; every cell neutralised. Streams the rows.

    `size`, (rows with the header, columns) when known before the rows are, is written as the
    sheet's dimension record (a write-only sheet has none). `read_sheet` does not need it, but
    it spares openpyxl a whole pass over the sheet when the file is opened again."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    if size is not None:
        rows_count, columns = size
        ref = f"A1:{_letter(max(columns, 1) - 1)}{max(rows_count, 1)}"
        sheet.calculate_dimension = lambda: ref  # read by openpyxl's writer before the first row
    for index, width in enumerate(widths or [max(12, min(40, len(str(h or "")) + 4)) for h in headers]):
        sheet.column_dimensions[_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_cell(sheet, h, bold=True) for h in headers])
    for row in rows:
        sheet.append([_cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def with_error_column(content: bytes, errors: Iterable[RowError], *, column: str = ERROR_COLUMN) -> bytes:
    """The uploaded workbook's first sheet again, with an "Error" column saying what is wrong in
    each row; errors of no row follow the data. Formulas come back as neutralised text."""
    by_row: dict[int, list[str]] = {}
    for error in errors:
        text = f"{error.column}: {error.reason}" if error.column else error.reason
        by_row.setdefault(error.row, []).append(text)
    source = load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
    try:
        sheet = source.worksheets[0]
        sheet.reset_dimensions()
        title = sheet.title
        # First pass: how wide and how long the data is (one value typed in row 1,048,576 must
        # not make a million-row download); the second streams the rows into the new workbook.
        width = last = 0
        filler = None
        for number, values in _values(sheet):
            if values is filler:
                continue  # openpyxl yields one empty tuple for every missing row
            used = [i for i, v in enumerate(values) if v is not None]
            if used:
                width, last = max(width, used[-1] + 1), number
            else:
                filler = values
        last = min(max(last, max(by_row, default=0)), MAX_ERROR_FILE_ROWS)
        rows = _values(sheet)
        _, first = next(rows, (1, ()))
        header = [*_fit(first, width), column]
        body = (
            [*_fit(values, width), "; ".join(by_row.get(number, [])) or None]
            for number, values in itertools.takewhile(lambda row: row[0] <= last, rows)
        )
        tail = ([None] * width + [text] for number in (0, 1) for text in by_row.get(number, []))
        size = (last + len(by_row.get(0, [])) + len(by_row.get(1, [])), width + 1)
        return workbook_bytes(header, itertools.chain(body, tail), title=title, size=size)
    finally:
        source.close()


def _values(sheet):
    """(Excel's row number, the row's values) for the sheet's rows, row 1 first."""
    return enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1)


def _fit(values, width: int) -> list:
    return [*values[:width], *[None] * (width - len(values[:width]))]


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    # RFC 6266 with filename* for names beyond ASCII (an uploaded "住户.xlsx", a quote in a name).
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
