"""The hardened reader of uploaded templates (smartplus.xlsx) against the attacks of the issue's
acceptance point 3 (zip bombs, billion laughs, macros, formulas), each refused with its message,
in under a second and without memory blow-up; then the reading and the error file it still owes.
"""

from __future__ import annotations

import functools
import io
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import openpyxl.xml
import openpyxl.xml.functions
import pytest
from django.core import checks
from django.core.exceptions import ValidationError
from openpyxl import Workbook, load_workbook

from smartplus import xlsx
from smartplus.checks import xlsx_parser_check
from smartplus.xlsx import RowError, check_package, read_sheet, with_error_column
from tests.maclib.workbooks import upload
from tests.maclib.workbooks import xlsx as workbook

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]

# The bound: each refusal in under a second.
SECONDS = 1.0
# Peak RSS (VmHWM) may grow by this much while an attack is read. A refused upload costs its own bytes
# (at most 5 MB) plus zipfile's and openpyxl's buffers, a few MB; the attacks, if they worked,
# would cost 200 MB (the zip bomb) or gigabytes (the billion laughs), and the probe's control
# below shows it sees such growth.
RSS_GROWTH_KIB = 30 * 1024


def read(content: bytes, name: str = "residents.xlsx", **kwargs) -> xlsx.Sheet:
    kwargs.setdefault("columns", ["Name", "Apt"])
    kwargs.setdefault("max_rows", 100)
    return read_sheet(upload(content, name), **kwargs)


def refusal(content: bytes, name: str = "residents.xlsx", **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        read(content, name, **kwargs)
    return exc.value.messages


def swap(data: bytes, old: bytes, new: bytes) -> bytes:
    """`old` replaced by `new`, failing if `old` is not there (a builder that changes nothing would
    make its test pass for the wrong reason)."""
    assert old in data, old
    return data.replace(old, new)


def part(content: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return package.read(name)


def repacked(content: bytes, parts: dict[str, bytes | Iterable[bytes]]) -> bytes:
    """`content` (a zip) with `parts` replaced or added; an iterable part is written chunk by chunk
    so that a 200 MB part never sits in memory."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info.filename, source.read(info.filename))
        for name, data in parts.items():
            with target.open(name, "w") as sink:
                for chunk in [data] if isinstance(data, bytes) else data:
                    sink.write(chunk)
    return out.getvalue()


def good() -> bytes:
    return workbook([["Name", "Apt"], ["Ann", "101"]])


def padded_sheet(size: int) -> Iterable[bytes]:
    """A well-formed sheet whose sheetData is `size` bytes of blanks: compresses about 1000 to 1."""
    yield f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1"/><sheetData>'.encode()
    for start in range(0, size, MB):
        yield b" " * min(MB, size - start)
    yield b"</sheetData></worksheet>"


# --- attack files ---------------------------------------------------------------------------------


@functools.cache
def zip_bomb() -> bytes:
    """A valid-looking workbook of ~200 KB whose sheet inflates to 200 MB."""
    return repacked(good(), {SHEET: padded_sheet(200 * MB)})


@functools.cache
def entry_bomb() -> bytes:
    """A workbook padded to one part more than MAX_ENTRIES."""
    return padded_entries(xlsx.MAX_ENTRIES + 1)


def padded_entries(total: int) -> bytes:
    content = good()
    count = len(zipfile.ZipFile(io.BytesIO(content)).infolist())
    return repacked(content, {f"xl/media/image{n}.png": b"" for n in range(total - count)})


@functools.cache
def ratio_bomb() -> bytes:
    """One 40 MB sheet: under the total cap, but compressed about 1000 to 1."""
    return repacked(good(), {SHEET: padded_sheet(40 * MB)})


def patched(content: bytes, name: str, **fields: int) -> bytes:
    """`content` with fields of `name`'s local header and central directory entry overwritten, as a
    hand-made zip would have them: flags, crc, size (the unpacked size)."""
    # Offsets in the local header and in the central directory entry (APPNOTE 4.3.7 and 4.3.12).
    offsets = {"flags": (6, 8, "<H"), "crc": (14, 16, "<I"), "size": (22, 24, "<I")}
    data = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(name)
    local = info.header_offset
    assert data[local : local + 4] == b"PK\x03\x04" and not info.flag_bits & 0x08  # sizes in the header
    central = None
    position = struct.unpack_from("<I", data, data.rfind(b"PK\x05\x06") + 16)[0]
    while data[position : position + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == name.encode():
            central = position
        position += 46 + name_length + extra_length + comment_length
    assert central is not None
    for field, value in fields.items():
        in_local, in_central, layout = offsets[field]
        struct.pack_into(layout, data, local + in_local, value)
        struct.pack_into(layout, data, central + in_central, value)
    return bytes(data)


DECLARED = 4096


@functools.cache
def lying_bomb(name: str = SHEET, crc_of_prefix: bool = False) -> bytes:
    """A 200 MB part declared as 4 KB in both headers, so that every size check passes; its CRC is
    the real one, or that of the 4 KB zipfile delivers (then nothing looks wrong when reading)."""
    content = zip_bomb() if name == SHEET else repacked(good(), {name: padded_sheet(200 * MB)})
    if not crc_of_prefix:
        return patched(content, name, size=DECLARED)
    with zipfile.ZipFile(io.BytesIO(content)) as package, package.open(name) as source:
        crc = zlib.crc32(source.read(DECLARED))
    return patched(content, name, size=DECLARED, crc=crc)


# The billion laughs: ten levels of ten, 10**9 "lol"s (3 GB) once expanded.
LAUGHS = (
    b"<!DOCTYPE lolz ["
    + b'<!ENTITY lol0 "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10))
    + b"]>"
)
# An external entity, which would read a file of the server into the sheet.
EXTERNAL = b'<!DOCTYPE lolz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def laughing(content: bytes, name: str, old: bytes, new: bytes = b"&lol9;", doctype: bytes = LAUGHS) -> bytes:
    """`content` with part `name` declaring `doctype`'s entities, and `new` (using one) in place of `old`."""
    xml = part(content, name)
    declaration, _, body = xml.partition(b"?>") if xml.startswith(b"<?xml") else (b"", b"", xml)
    head = declaration + b"?>" if declaration else b""
    return repacked(content, {name: head + doctype + swap(body, old, new)})


def shared_strings_workbook(names: list[str]) -> bytes:
    """A workbook whose text cells point into xl/sharedStrings.xml, as Excel writes them (openpyxl
    writes inline strings, which would leave that part unread)."""
    base = workbook([["Name"]])
    strings = ["Name", *names]
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>{n - 1}</v></c></row>' for n in range(1, len(strings) + 1)
    )
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />'
        b"</Types>"
    )
    return repacked(
        base,
        {
            "[Content_Types].xml": swap(part(base, "[Content_Types].xml"), b"</Types>", override),
            SHEET: f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1:A{len(strings)}"/>'
            f"<sheetData>{rows}</sheetData></worksheet>".encode(),
            "xl/sharedStrings.xml": f'<sst xmlns="{MAIN_NS}">{items}</sst>'.encode(),
        },
    )


MACRO_CONTENT_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_PROJECT = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an OLE compound file's header


def xlsm(*, vba_part: bool = True, macro_type: bool = True) -> bytes:
    """A macro-enabled workbook as Excel saves it: the VBA project part (with its relationship)
    and the workbook part typed macro-enabled; either signal may be left out."""
    content = workbook([["Name", "Apt"], ["Ann", "101"]])
    parts: dict[str, bytes] = {}
    types = part(content, "[Content_Types].xml")
    if macro_type:
        types = swap(
            types,
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            MACRO_CONTENT_TYPE,
        )
    if vba_part:
        types = swap(
            types,
            b"</Types>",
            b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject" /></Types>',
        )
        parts["xl/_rels/workbook.xml.rels"] = swap(
            part(content, "xl/_rels/workbook.xml.rels"),
            b"</Relationships>",
            b'<Relationship Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            b'Target="vbaProject.bin" Id="rId9" /></Relationships>',
        )
        parts["xl/vbaProject.bin"] = VBA_PROJECT
    parts["[Content_Types].xml"] = types
    return repacked(content, parts)


def docx() -> bytes:
    """A Word document: an Office Open XML package, but no workbook in it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        package.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("residents.csv", "Name,Apt\nAnn,101\n")
    return out.getvalue()


def oversized() -> bytes:
    """A real workbook over 5 MB: a large picture (random bytes do not compress) pasted in."""
    return repacked(good(), {"xl/media/image1.png": os.urandom(xlsx.MAX_FILE_BYTES)})


@functools.cache
def row_bomb() -> bytes:
    """1.5 million empty rows and no dimension record: 4.5 MB, under every size cap."""
    return repacked(good(), {SHEET: empty_rows_sheet(1_500_000)})


# An HTML page that is also a GIF, with a workbook appended: zipfile finds the zip at the end.
POLYGLOT_HEAD = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;<html><script>alert(document.domain)</script></html>"


def formula() -> bytes:
    return workbook([["Name", "Apt"], ["Ann", "=100+1"]])


@dataclass(frozen=True)
class Attack:
    id: str
    build: Callable[[], bytes]
    name: str
    expected: list[str]


ATTACKS = [
    Attack("zip-bomb", zip_bomb, "residents.xlsx", [xlsx.UNPACKED]),
    Attack("entry-bomb", entry_bomb, "residents.xlsx", [xlsx.BOMB]),
    Attack("ratio-bomb", ratio_bomb, "residents.xlsx", [xlsx.BOMB]),
    Attack("lying-sheet", lying_bomb, "residents.xlsx", [xlsx.BOMB]),
    Attack("lying-sheet-crc-of-prefix", lambda: lying_bomb(SHEET, True), "residents.xlsx", [xlsx.BOMB]),
    # openpyxl reads these with ZipFile.read, which inflates the whole stream (see the probe's control).
    Attack("lying-workbook", lambda: lying_bomb("xl/workbook.xml", True), "residents.xlsx", [xlsx.BOMB]),
    Attack(
        "lying-content-types", lambda: lying_bomb("[Content_Types].xml", True), "residents.xlsx", [xlsx.BOMB]
    ),
    Attack("laughs-sheet", lambda: laughing(good(), SHEET, b"Ann"), "residents.xlsx", [xlsx.ENTITIES]),
    Attack(
        "laughs-workbook",
        lambda: laughing(good(), "xl/workbook.xml", b'name="Sheet1"', b'name="&lol9;"'),
        "residents.xlsx",
        [xlsx.ENTITIES],
    ),
    Attack(
        "laughs-shared-strings",
        lambda: laughing(shared_strings_workbook(["Ann"]), "xl/sharedStrings.xml", b"Ann"),
        "residents.xlsx",
        [xlsx.ENTITIES],
    ),
    Attack(
        "external-entity",
        lambda: laughing(good(), SHEET, b"Ann", b"&xxe;", EXTERNAL),
        "residents.xlsx",
        [xlsx.ENTITIES],
    ),
    Attack("row-bomb", lambda: row_bomb(), "residents.xlsx", [xlsx.TOO_MANY_ROWS]),
    Attack("polyglot", lambda: POLYGLOT_HEAD + good(), "residents.xlsx", [xlsx.NOT_ZIP_START]),
    Attack("xlsm-renamed", xlsm, "residents.xlsx", [xlsx.MACROS]),
    Attack("oversized", oversized, "residents.xlsx", [xlsx.TOO_LARGE]),
    Attack("formula", formula, "residents.xlsx", [str(RowError(2, "Apt", xlsx.FORMULA))]),
]


def outcome(content: bytes, name: str) -> list[str]:
    """The messages a user is shown: the refusal, or the cells refused while reading."""
    try:
        sheet = read(content, name)
    except ValidationError as exc:
        return exc.messages
    return [str(error) for error in sheet.errors]


# --- zip bombs ------------------------------------------------------------------------------------


def test_a_zip_bomb_is_small_and_refused_as_too_large_once_unpacked():
    content = zip_bomb()
    assert len(content) < MB  # not refused for its size: it is 200 times smaller than what it holds
    assert zipfile.ZipFile(io.BytesIO(content)).getinfo(SHEET).file_size > xlsx.MAX_UNPACKED_BYTES
    assert refusal(content) == [xlsx.UNPACKED]


def test_more_parts_than_max_entries_are_a_bomb_and_max_entries_is_not():
    assert refusal(entry_bomb()) == [xlsx.BOMB]
    assert read(padded_entries(xlsx.MAX_ENTRIES)).rows == [(2, {"Name": "Ann", "Apt": "101"})]


def test_one_part_compressed_past_max_ratio_is_a_bomb_even_under_the_total_cap():
    info = zipfile.ZipFile(io.BytesIO(ratio_bomb())).getinfo(SHEET)
    assert info.file_size < xlsx.MAX_UNPACKED_BYTES
    assert info.file_size > xlsx.MAX_RATIO * info.compress_size
    assert refusal(ratio_bomb()) == [xlsx.BOMB]


def test_a_small_part_compressing_well_is_not_a_bomb():
    # Under RATIO_FROM_BYTES a high ratio is harmless: the part is small and the total cap holds.
    content = repacked(good(), {SHEET: padded_sheet(xlsx.RATIO_FROM_BYTES // 2)})
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(SHEET)
    assert info.file_size > xlsx.MAX_RATIO * info.compress_size
    assert read(content).rows == []


def delivered(content: bytes, name: str) -> int:
    """How many bytes zipfile hands out for `name`, read in small chunks (so memory stays small)."""
    total = 0
    with zipfile.ZipFile(io.BytesIO(content)) as package, package.open(name) as source:
        while chunk := source.read(1024):
            total += len(chunk)
    return total


def test_zipfile_hands_out_no_more_than_the_declared_size():
    # With the real CRC it stops at the declared size with a CRC error; with the prefix's, silently.
    with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
        delivered(lying_bomb(), SHEET)
    assert delivered(lying_bomb(SHEET, True), SHEET) == DECLARED


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.id.startswith("lying")], ids=lambda a: a.id)
def test_a_part_inflating_past_its_declared_size_is_a_bomb(attack):
    # Every size check passes on what the directory declares; the chunked inflation sees the lie.
    info = zipfile.ZipFile(io.BytesIO(attack.build())).infolist()
    assert sum(i.file_size for i in info) < xlsx.MAX_UNPACKED_BYTES
    assert refusal(attack.build()) == [xlsx.BOMB]


def test_an_entry_flagged_encrypted_is_not_an_xlsx_rather_than_a_crash():
    # zipfile raises RuntimeError ("password required") for it.
    content = patched(good(), "[Content_Types].xml", flags=0x01)
    assert refusal(content) == [xlsx.NOT_XLSX]


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_a_package_compressed_other_than_excel_does_is_not_an_xlsx(method):
    # zipfile inflates bzip2 and LZMA entries with no bound on the output of a read.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good())) as source, zipfile.ZipFile(out, "w", method) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    assert refusal(out.getvalue()) == [xlsx.NOT_XLSX]


# --- XML entities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [a for a in ATTACKS if a.id.startswith(("laughs", "external"))],
    ids=lambda a: a.id,
)
def test_entity_declarations_are_refused_with_the_entities_message(attack):
    # openpyxl re-raises defusedxml's error as its own ValueError; the message must still say why.
    assert refusal(attack.build()) == [xlsx.ENTITIES]


def test_the_shared_strings_part_is_really_read():
    # Otherwise the billion laughs in that part above would pass without being parsed.
    assert read(shared_strings_workbook(["Ann", "Bob"]), columns=["Name"]).rows == [
        (2, {"Name": "Ann"}),
        (3, {"Name": "Bob"}),
    ]


# --- macros and files that are not workbooks ------------------------------------------------------


@pytest.mark.parametrize("name", ["residents.xlsx", "residents.xlsm"])
def test_a_macro_enabled_workbook_is_refused_whatever_its_name(name):
    assert refusal(xlsm(), name) == [xlsx.MACROS]


@pytest.mark.parametrize(
    "content", [xlsm(macro_type=False), xlsm(vba_part=False)], ids=["vba-part-only", "macro-type-only"]
)
def test_either_sign_of_macros_is_enough(content):
    assert refusal(content) == [xlsx.MACROS]


@pytest.mark.parametrize("name", ["residents.xlsm", "residents.XLTM", "residents.xlam"])
def test_a_macro_file_name_is_refused_before_the_content_is_read(name):
    assert refusal(good(), name) == [xlsx.MACROS]


@pytest.mark.parametrize(
    "content",
    [docx(), plain_zip(), b"Name,Apt\nAnn,101\n", b""],
    ids=["docx", "zip", "text", "empty"],
)
def test_a_file_renamed_xlsx_is_not_an_xlsx(content):
    assert refusal(content, "residents.xlsx") == [xlsx.NOT_XLSX]


def test_a_file_over_5_mb_is_refused_as_too_large():
    content = oversized()
    assert len(content) > xlsx.MAX_FILE_BYTES
    assert refusal(content) == [xlsx.TOO_LARGE]


def test_check_package_accepts_a_plain_workbook():
    assert check_package(upload(good())) is None


# --- formulas -------------------------------------------------------------------------------------


def test_a_formula_cell_is_an_error_at_its_row_and_column_not_a_value():
    content = workbook(
        [["Apt", "Note", "Name"], ["101", "", "Ann"], [None], ["=100+2", "", "Bob"], ["103", "", "=A2"]]
    )
    sheet = read(content)
    assert sheet.errors == [RowError(4, "Apt", xlsx.FORMULA), RowError(5, "Name", xlsx.FORMULA)]
    assert sheet.rows == [
        (2, {"Apt": "101", "Name": "Ann"}),
        (4, {"Apt": None, "Name": "Bob"}),
        (5, {"Apt": "103", "Name": None}),
    ]


def test_a_formula_in_a_column_outside_the_template_is_ignored():
    assert read(workbook([["Name", "Apt", "Sum"], ["Ann", "101", "=1+1"]])).errors == []


def test_a_text_that_starts_with_an_equals_sign_is_a_value_next_to_a_formula():
    # Read by value first, both read "=..."; the cell types tell them apart.
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Apt"])
    sheet.append(["=A1", "101"])
    sheet["A2"].data_type = "s"  # typed text, as Excel keeps '=A1
    sheet.append(["Bob", "=100+2"])
    out = io.BytesIO()
    book.save(out)
    result = read(out.getvalue())
    assert result.errors == [RowError(3, "Apt", xlsx.FORMULA)]
    assert result.rows == [(2, {"Name": "=A1", "Apt": "101"}), (3, {"Name": "Bob", "Apt": None})]


def test_an_array_formula_is_a_formula_too():
    from openpyxl.worksheet.formula import ArrayFormula

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Apt"])
    sheet.append(["Ann", "101"])
    sheet["B2"] = ArrayFormula("B2", "=SUM(1, 2)")
    out = io.BytesIO()
    book.save(out)
    assert read(out.getvalue()).errors == [RowError(2, "Apt", xlsx.FORMULA)]


# --- time and memory ------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.id)
def test_each_attack_is_answered_with_its_message_in_under_a_second(attack):
    content = attack.build()
    started = time.perf_counter()
    messages = outcome(content, attack.name)
    elapsed = time.perf_counter() - started
    print(f"{attack.id}: {elapsed * 1000:.0f} ms")
    assert messages == attack.expected
    assert elapsed <= SECONDS


PROBE = """
import json, resource, sys, time
import django
django.setup()
from django.core.exceptions import ValidationError
from django.core.files import File
from smartplus import xlsx

def peak():
    # VmHWM, not ru_maxrss: Linux carries the forking pytest process's RSS into ru_maxrss across
    # exec, so ru_maxrss would start at the parent's hundreds of MB and hide any smaller growth.
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(status["VmHWM"].split()[0])  # KiB

def outcome(path, name):
    with open(path, "rb") as f:
        try:
            sheet = xlsx.read_sheet(File(f, name=name), columns=["Name", "Apt"], max_rows=100)
        except ValidationError as exc:
            return exc.messages
    return [str(error) for error in sheet.errors]

mode, path, name, warm = sys.argv[1:]
outcome(warm, "warm.xlsx")  # openpyxl's lazy imports and first allocations are not the attack's
before = peak()
started = time.perf_counter()
if mode == "zipfile-read":
    import zipfile
    with zipfile.ZipFile(path) as package:
        result = [str(len(package.read(n))) for n in package.namelist()]
else:
    result = outcome(path, name)
seconds = time.perf_counter() - started
figures = {"outcome": result, "seconds": seconds, "before": before, "after": peak()}
print(json.dumps({**figures, "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def probe(tmp_path: Path, content: bytes, name: str, *, mode: str = "read_sheet") -> dict:
    """Read `content` from a file in a fresh interpreter; its outcome, time and peak RSS (KiB)."""
    path = tmp_path / "attack.bin"
    path.write_bytes(content)
    warm = tmp_path / "warm.xlsx"
    warm.write_bytes(good())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartplus.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(path), name, str(warm)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.id)
def test_each_attack_leaves_peak_memory_almost_where_it_was(attack, tmp_path):
    figures = probe(tmp_path, attack.build(), attack.name)
    growth = figures["after"] - figures["before"]
    ms = figures["seconds"] * 1000
    print(f"{attack.id}: {ms:.0f} ms, VmHWM {figures['before']} -> {figures['after']} KiB")
    assert figures["outcome"] == attack.expected
    assert figures["seconds"] <= SECONDS
    assert growth < RSS_GROWTH_KIB


def test_the_memory_probe_sees_zipfile_inflate_a_lying_part_whole(tmp_path):
    # The probe's control, and why the guard inflates each part itself in chunks: ZipFile.read of a
    # part declared 4 KB hands out 4 KB but inflates all 200 MB first.
    figures = probe(tmp_path, lying_bomb(SHEET, True), "residents.xlsx", mode="zipfile-read")
    assert str(DECLARED) in figures["outcome"]
    assert figures["after"] - figures["before"] > 150 * 1024


# --- reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Apt Name", "AptName", "apt_name", "APT NAME", " apt-name "])
def test_headers_match_ignoring_case_spaces_and_underscores(header):
    sheet = read(workbook([["Name", header], ["Ann", "101A"]]), columns=["Name", "Apt Name"])
    assert sheet.rows == [(2, {"Name": "Ann", "Apt Name": "101A"})]


def test_missing_required_columns_are_named_in_the_message():
    content = workbook([["Name", "Comment"], ["Ann", "x"]], title="Residents")
    messages = refusal(
        content,
        columns=["Name", "Apt", "Email"],
        required=["Name", "Apt", "Email"],
        template="the resident template",
    )
    assert messages == [
        'The sheet "Residents" lacks the column(s) Apt, Email in row 1. '
        "Use the resident template: its first row names the columns."
    ]


def test_a_missing_optional_column_is_left_out_of_the_rows():
    # The importers read optional columns with .get().
    sheet = read(workbook([["Name"], ["Ann"]]), columns=["Name", "Apt"], required=["Name"])
    assert sheet.rows == [(2, {"Name": "Ann"})]


def test_rows_keep_excels_numbers_across_blank_rows():
    content = workbook(
        [["Name", "Apt"], ["Ann", "101"], [None], [None, ""], ["Bob", "102"], [], ["Cy", None]]
    )
    assert read(content).rows == [
        (2, {"Name": "Ann", "Apt": "101"}),
        (5, {"Name": "Bob", "Apt": "102"}),
        (7, {"Name": "Cy", "Apt": None}),
    ]


def test_a_whole_number_stored_as_403_0_reads_as_the_integer_403():
    content = workbook([["Name", "Apt"], [" Ann ", 403], ["Bob", 2.5], ["Cy", "404"]])
    content = repacked(content, {SHEET: swap(part(content, SHEET), b"<v>403</v>", b"<v>403.0</v>")})
    values = [row["Apt"] for _, row in read(content).rows]
    assert values == [403, 2.5, "404"]
    assert type(values[0]) is int
    assert read(content).rows[0][1]["Name"] == "Ann"


def test_more_rows_than_max_rows_are_refused():
    content = workbook([["Name", "Apt"], *([f"R{n}", n] for n in range(4))])
    assert len(read(content, max_rows=4).rows) == 4
    assert refusal(content, max_rows=3) == ["The file holds more than 3 rows; split it into smaller files."]


# --- the error file -------------------------------------------------------------------------------


def test_the_error_file_is_the_upload_with_an_error_column():
    content = workbook([["Name", "Apt"], ["Ann", "=100+1"], [None], ["Bob", "102"], ["Cy", "103"]])
    errors = [
        RowError(2, "Apt", xlsx.FORMULA),
        RowError(5, "Name", "already lives here"),
        RowError(5, "Apt", "no such apartment"),
        RowError(0, "", "the file holds no data"),
        RowError(1, "Email", "the column is missing"),
    ]
    sheet = load_workbook(io.BytesIO(with_error_column(content, errors))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Name", "Apt", "Error"],
        ["Ann", "=100+1", f"Apt: {xlsx.FORMULA}"],
        [None, None, None],
        ["Bob", "102", None],
        ["Cy", "103", "Name: already lives here; Apt: no such apartment"],
        [None, None, "the file holds no data"],
        [None, None, "Email: the column is missing"],
    ]
    assert sheet["B2"].data_type == "s" and sheet["B2"].quotePrefix  # the formula is text now
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_the_error_file_takes_headers_that_are_numbers_or_blank():
    # A note typed in a column without a header, a year as a header: the reader ignores those
    # columns, and the errors download must still work.
    content = workbook([["Name", "Apt", 2024], ["Ann", "101", None, None, "note"]])
    sheet = load_workbook(io.BytesIO(with_error_column(content, [RowError(2, "Apt", "bad")]))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Name", "Apt", 2024, None, None, "Error"],
        ["Ann", "101", None, None, "note", "Apt: bad"],
    ]


def test_the_error_file_can_be_uploaded_again_as_it_is():
    content = workbook([["Name", "Apt"], ["Ann", "=1+1"], [None], ["Bob", "102"]])
    errors = with_error_column(content, [RowError(4, "Apt", "bad"), RowError(0, "", "whole file")])
    sheet = read(errors)
    # The formula came back as text; the rows holding nothing but an error are no data rows.
    assert sheet.rows == [(2, {"Name": "Ann", "Apt": "=1+1"}), (4, {"Name": "Bob", "Apt": "102"})]
    assert sheet.errors == []
    assert load_workbook(io.BytesIO(errors), read_only=True).active.calculate_dimension() == "A1:C5"


def test_the_error_file_of_a_value_in_the_last_excel_row_stays_small():
    source = Workbook()
    source.active.append(["Name", "Apt"])
    source.active.append(["Ann", "101"])
    source.active["A1048576"] = "stray"
    out = io.BytesIO()
    source.save(out)
    started = time.perf_counter()
    result = with_error_column(out.getvalue(), [RowError(2, "Apt", "bad")])
    elapsed = time.perf_counter() - started
    sheet = load_workbook(io.BytesIO(result), read_only=True).active
    assert sheet.max_row == xlsx.MAX_ERROR_FILE_ROWS
    assert elapsed < 10 * SECONDS  # it took 22 s and 555 MB when every row was kept in a list


def test_a_download_name_beyond_ascii_keeps_attachment_and_name():
    response = xlsx.xlsx_response(b"x", 'Résidents "A".xlsx')
    header = response["Content-Disposition"]
    assert header.startswith("attachment;")
    assert "filename*=utf-8''R%C3%A9sidents%20%22A%22.xlsx" in header


# --- defusedxml and its system check --------------------------------------------------------------


def test_openpyxl_parses_through_defusedxml_here():
    assert xlsx.defusedxml_active()
    assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")


@pytest.mark.parametrize(("flag", "value"), [("DEFUSEDXML", False), ("LXML", True)])
def test_the_system_check_fails_without_defusedxml_or_with_lxml(monkeypatch, flag, value):
    monkeypatch.setattr(openpyxl.xml, flag, value)
    (error,) = xlsx_parser_check()
    assert isinstance(error, checks.Error) and error.id == "smartplus.E001"
    assert "defusedxml" in error.hint and "OPENPYXL_LXML=False" in error.hint


def test_the_system_check_is_registered_and_quiet_when_defusedxml_is_active(monkeypatch):
    def ours():
        return [m for m in checks.run_checks(tags=[checks.Tags.security]) if m.id == "smartplus.E001"]

    assert ours() == []
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    assert len(ours()) == 1


def empty_rows_sheet(count: int, *, dimension: bool = False, prefix: str = "") -> Iterable[bytes]:
    """A sheet of `count` empty rows (about 7 to 1 compressed), by default with no dimension record."""
    p = f"{prefix}:" if prefix else ""
    namespace = f'xmlns{":" + prefix if prefix else ""}="{MAIN_NS}"'
    head = f'<{p}dimension ref="A1:A{count}"/>' if dimension else ""
    yield f"<{p}worksheet {namespace}>{head}<{p}sheetData>".encode()
    for start in range(1, count + 1, 10_000):
        yield "".join(f'<{p}row r="{n}"/>' for n in range(start, min(start + 10_000, count + 1))).encode()
    yield f"</{p}sheetData></{p}worksheet>".encode()


def write_only(rows: list[list[object]]) -> bytes:
    """A workbook from openpyxl's write-only mode, which writes no dimension record."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Residents")
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- sheets without a dimension record, and the row cap ------------------------------------------


def test_a_workbook_without_a_dimension_record_is_read():
    content = write_only([["Name", "Apt"], ["Ann", "101"], [None], ["Bob", "102"]])
    assert b"dimension" not in part(content, SHEET)
    sheet = read(content)
    assert sheet.rows == [(2, {"Name": "Ann", "Apt": "101"}), (4, {"Name": "Bob", "Apt": "102"})]


def test_a_workbook_without_a_dimension_over_max_rows_is_refused_with_the_row_count():
    content = write_only([["Name", "Apt"], *([f"R{n}", n] for n in range(4))])
    assert len(read(content, max_rows=4).rows) == 4
    assert refusal(content, max_rows=3) == ["The file holds more than 3 rows; split it into smaller files."]


def test_max_sheet_rows_row_records_pass_and_one_more_is_refused_before_openpyxl():
    # Counted over the inflated stream in 64 KB chunks: some row tags straddle two chunks.
    assert check_package(upload(repacked(good(), {SHEET: empty_rows_sheet(xlsx.MAX_SHEET_ROWS)}))) is None
    over = repacked(good(), {SHEET: empty_rows_sheet(xlsx.MAX_SHEET_ROWS + 1)})
    with pytest.raises(ValidationError) as refused:
        check_package(upload(over))
    assert refused.value.messages == [xlsx.TOO_MANY_ROWS]


@pytest.mark.parametrize("dimension", [False, True], ids=["no-dimension", "dimension"])
def test_a_sheet_of_a_million_empty_rows_is_refused_in_under_a_second(dimension):
    # openpyxl keeps every row element it streams past; without a dimension it parses the whole
    # sheet while opening the workbook: this 4.5 MB upload took 15 s and 190 MB that way.
    content = repacked(good(), {SHEET: empty_rows_sheet(1_500_000, dimension=dimension)})
    assert len(content) <= xlsx.MAX_FILE_BYTES
    started = time.perf_counter()
    assert refusal(content) == [xlsx.TOO_MANY_ROWS]
    assert time.perf_counter() - started < SECONDS


def test_prefixed_row_records_count_and_row_breaks_do_not():
    # The Open XML SDK writes prefixed elements (<x:row>); <rowBreaks> is not a row.
    prefixed = repacked(good(), {SHEET: empty_rows_sheet(xlsx.MAX_SHEET_ROWS + 1, prefix="x")})
    assert refusal(prefixed) == [xlsx.TOO_MANY_ROWS]
    breaks = "".join(f'<rowBreaks count="{n}"/>' for n in range(xlsx.MAX_SHEET_ROWS + 1)).encode()
    sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData/>'.encode() + breaks + b"</worksheet>"
    check_package(upload(repacked(good(), {SHEET: sheet})))


def test_rows_of_a_sheet_stored_outside_xl_worksheets_count_too():
    # openpyxl follows the workbook's relationships, so a sheet may be stored at any path.
    rels = part(good(), "xl/_rels/workbook.xml.rels").replace(b"worksheets/sheet1.xml", b"elsewhere/s.dat")
    sheet = empty_rows_sheet(xlsx.MAX_SHEET_ROWS + 1)
    content = repacked(good(), {"xl/_rels/workbook.xml.rels": rels, "xl/elsewhere/s.dat": sheet})
    assert refusal(content) == [xlsx.TOO_MANY_ROWS]


# --- a zip that does not start as one -------------------------------------------------------------


def test_a_workbook_behind_other_bytes_is_refused_though_zipfile_opens_it():
    content = POLYGLOT_HEAD + good()
    assert zipfile.ZipFile(io.BytesIO(content)).read(SHEET)  # what made it pass before
    assert refusal(content) == [xlsx.NOT_ZIP_START]
