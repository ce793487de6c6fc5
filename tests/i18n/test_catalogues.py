"""The UI catalogues (issue 19, acceptance 3): every language of LANGUAGES complete (Persian,
Hebrew and the eleven email languages), no fuzzy entries, every compiled .mo in sync with its .po,
placeholders kept, and `makemessages` finding no string that the catalogues lack (so a newly
marked string without a translation fails here).
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils.translation import to_locale

LOCALE = Path(settings.LOCALE_PATHS[0])
COMPLETE = tuple(code for code, _name in settings.LANGUAGES if code != "en")
# The same ignores as `make messages` (Makefile, MESSAGES_IGNORE): code that ships no UI string.
IGNORE = [".venv/*", "node_modules/*", "tests/*", "benchmarks/*", "demo/*", "var/*"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{\{\s*\w+\s*\}\}")


def po_path(code: str) -> Path:
    return LOCALE / to_locale(code) / "LC_MESSAGES" / "django.po"


def parse_po(path: Path) -> list[dict]:
    """The live entries of a .po file (obsolete `#~` ones left out, the header too): msgctxt,
    msgid, msgid_plural, msgstr as a list of forms, flags."""
    entries: list[dict] = []
    entry: dict = {"flags": set()}
    field = None

    def close():
        nonlocal entry, field
        if "msgid" in entry and entry["msgid"] != "":
            entries.append(entry)
        entry, field = {"flags": set()}, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            if "msgstr" in entry:
                close()
            continue
        if line.startswith("#,"):
            if "msgstr" in entry:
                close()
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            if "msgstr" in entry:
                close()
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(entry[field], list):
                entry[field][-1] += value
            else:
                entry[field] += value
        else:
            keyword, _, value = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and "msgstr" in entry:
                close()
            value = ast.literal_eval(value)
            if keyword.startswith("msgstr"):
                entry.setdefault("msgstr", []).append(value)
                field = "msgstr"
            else:
                entry[keyword] = value
                field = keyword
    close()
    return entries


def key(entry: dict) -> tuple[str, str]:
    return entry.get("msgctxt", ""), entry["msgid"]


def placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text))


def placeholder_problems(entries: list[dict]) -> list[str]:
    problems = []
    for e in entries:
        forms = [s for s in e["msgstr"] if s]
        if not forms:
            continue
        if "msgid_plural" not in e:
            if placeholders(forms[0]) != placeholders(e["msgid"]):
                problems.append(f"{e['msgid']!r} -> {forms[0]!r}")
            continue
        # Plural forms: each form uses only the placeholders of the English forms (the singular may
        # leave the count out), and together they use all of them.
        allowed = set(placeholders(e["msgid"])) | set(placeholders(e["msgid_plural"]))
        used = [set(placeholders(s)) for s in forms]
        if any(u - allowed for u in used) or set().union(*used) != allowed:
            problems.append(f"{e['msgid']!r} (plural) -> {forms!r}")
    return problems


def catalog_of_mo(path: Path) -> dict:
    with path.open("rb") as f:
        return dict(gettext.GNUTranslations(f)._catalog)


@pytest.mark.parametrize("code", COMPLETE)
def test_the_catalogue_is_complete_without_fuzzy_entries(code):
    path = po_path(code)
    assert path.exists(), f"{path.relative_to(settings.BASE_DIR)} is missing"
    entries = parse_po(path)
    assert entries, "an empty catalogue"
    untranslated = [e["msgid"] for e in entries if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [], f"{code}: {len(untranslated)} untranslated, e.g. {untranslated[:10]}"
    assert fuzzy == [], f"{code}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:10]}"


@pytest.mark.parametrize("code", COMPLETE)
def test_placeholders_are_kept(code):
    path = po_path(code)
    assert path.exists(), f"{path.relative_to(settings.BASE_DIR)} is missing"
    problems = placeholder_problems(parse_po(path))
    assert problems == [], f"{code}: placeholders differ: {problems[:10]}"


@pytest.mark.parametrize("code", COMPLETE)
def test_the_compiled_catalogue_is_in_sync(code, tmp_path):
    po = po_path(code)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(settings.BASE_DIR)} is missing: run `make messages`"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True)
    assert catalog_of_mo(mo) == catalog_of_mo(fresh), f"{mo.name} of {code} is stale: run `make messages`"


def test_makemessages_finds_no_string_the_catalogues_lack(monkeypatch):
    """`makemessages` for English into a scratch locale folder: its msgids are exactly Persian's
    (and Hebrew's), so every string marked in the code is in the catalogues and none is left over."""
    # makemessages writes a file's strings to the locale path whose parent holds the file: a
    # scratch folder directly in the project (removed afterwards) catches them all.
    monkeypatch.chdir(settings.BASE_DIR)
    scratch = Path(settings.BASE_DIR) / f".makemessages-check-{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    try:
        with override_settings(LOCALE_PATHS=[scratch]):
            # Skipping locale/ keeps makemessages from taking the committed folder as the target.
            call_command(
                "makemessages",
                locale=["en"],
                ignore_patterns=[*IGNORE, "locale"],
                verbosity=0,
                no_obsolete=True,
            )
        extracted = {key(e) for e in parse_po(scratch / "en" / "LC_MESSAGES" / "django.po")}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert extracted, "makemessages found no string"
    for code in COMPLETE:
        committed = {key(e) for e in parse_po(po_path(code))} if po_path(code).exists() else set()
        new = sorted(m for _c, m in extracted - committed)
        gone = sorted(m for _c, m in committed - extracted)
        assert new == [], f"{code}: {len(new)} strings not in the catalogue (run `make messages`): {new[:15]}"
        assert gone == [], f"{code}: {len(gone)} strings no longer in the code: {gone[:15]}"
