"""The resident account email in the 12 languages, and the gettext catalogs behind it."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils.translation import to_locale
from django.utils.translation.template import templatize

from accounts.choices import Language
from accounts.emails import account_email_send
from residents.emails import resident_account_email_send
from tests.factories import PropertyManagerFactory

PASSWORD = "Kx7-rT2q"
ACCOUNT = "anna.novak@example.test"
OTHER_LANGUAGES = [code for code in Language.values if code != Language.ENGLISH]
# Django's locale directory name of each language code (translation.to_locale).
LOCALE_DIRS = {
    "zh-hans": "zh_Hans",
    "ko": "ko",
    "ja": "ja",
    "tr": "tr",
    "pl": "pl",
    "ru": "ru",
    "es": "es",
    "bs": "bs",
    "da": "da",
    "vi": "vi",
    "fr": "fr",
}
# Sentences of the English template that must not survive in a translated email.
ENGLISH_PHRASES = [
    "has been created",
    "Download the SmartPlus app",
    "You can change your password",
    "If you did not expect this email",
]
EMAIL_TEMPLATES = [
    "accounts/email/account_subject.txt",
    "accounts/email/account_message.txt",
    "residents/email/account_subject.txt",
    "residents/email/account_message.txt",
]


def make_resident(**overrides):
    values = {
        "email": ACCOUNT,
        "language": "en",
        "first_name": "Anna",
        "last_name": "Novak",
        "community": SimpleNamespace(name="Luna Gardens"),
        "apartment": SimpleNamespace(number="2#123", building=SimpleNamespace(name="Tower B")),
    }
    values.update(overrides)
    values.setdefault("display_name", f"{values['first_name']} {values['last_name']}".strip())
    return SimpleNamespace(**values)


def send(mailoutbox, **overrides):
    resident_account_email_send(resident=make_resident(**overrides), password=PASSWORD)
    assert len(mailoutbox) == 1
    return mailoutbox[0]


def test_english_email_has_account_password_community_and_apartment(mailoutbox):
    message = send(mailoutbox)

    assert message.to == [ACCOUNT]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "Your SmartPlus app account for Luna Gardens"
    assert "Hello Anna Novak," in message.body
    assert f"Account: {ACCOUNT}" in message.body
    assert f"Password: {PASSWORD}" in message.body
    assert "Community: Luna Gardens" in message.body
    assert "Building: Tower B" in message.body
    assert "Apartment: 2#123" in message.body
    for phrase in ENGLISH_PHRASES:
        assert phrase in message.body


def test_language_missing_falls_back_to_english(mailoutbox):
    message = send(mailoutbox, language="")

    assert message.subject == "Your SmartPlus app account for Luna Gardens"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_email_is_translated(mailoutbox, language):
    english = send(mailoutbox)
    mailoutbox.clear()
    message = send(mailoutbox, language=language)

    assert message.to == [ACCOUNT]
    assert message.subject != english.subject
    assert "Luna Gardens" in message.subject
    assert message.body != english.body
    for value in (ACCOUNT, PASSWORD, "Luna Gardens", "Tower B", "2#123", "Anna Novak"):
        assert value in message.body
    for phrase in ENGLISH_PHRASES:
        assert phrase not in message.body
    assert "Hello" not in message.body
    assert "Password:" not in message.body


def test_text_is_not_html_escaped(mailoutbox):
    password = "a&b<c>'\""
    resident_account_email_send(
        resident=make_resident(community=SimpleNamespace(name="O'Brien & Sons")), password=password
    )

    message = mailoutbox[0]
    assert message.subject == "Your SmartPlus app account for O'Brien & Sons"
    assert f"Password: {password}" in message.body
    assert "&amp;" not in message.body
    assert "&#x27;" not in message.body


def test_without_name_or_building(mailoutbox):
    message = send(
        mailoutbox,
        first_name="",
        last_name="",
        apartment=SimpleNamespace(number="101", building=None),
    )

    assert message.body.startswith("Hello,\n")
    assert "Building:" not in message.body
    assert "Apartment: 101" in message.body


def test_no_email_without_address(mailoutbox):
    resident_account_email_send(resident=make_resident(email=""), password=PASSWORD)

    assert mailoutbox == []


# --- The catalogs --------------------------------------------------------------------------------


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgstr (first form), flags; the header entry included."""
    entries: list[dict] = []
    entry: dict = {}
    field = None

    def close():
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {}

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            close()
            field = None
        elif line.startswith("#,"):
            if "msgid" in entry:
                close()
            entry.setdefault("flags", set()).update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            if "msgid" in entry:
                close()
            entry.setdefault("refs", []).extend(ref.rsplit(":", 1)[0] for ref in line[2:].split())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            keyword, _, value = line.partition(" ")
            if keyword == "msgid" and "msgid" in entry:
                close()
            field = "msgstr" if keyword == "msgstr[0]" else keyword
            entry[field] = ast.literal_eval(value)
    close()
    for item in entries:
        item.setdefault("flags", set())
        item.setdefault("refs", [])
    return entries


def template_msgids() -> set[str]:
    """The translatable strings of the email templates, found the way makemessages finds them."""
    msgids = set()
    for name in EMAIL_TEMPLATES:
        source = (Path(settings.BASE_DIR) / "templates" / name).read_text(encoding="utf-8")
        for literal in re.findall(r"gettext\((u'(?:[^'\\]|\\.)*')\)", templatize(source)):
            msgids.add(ast.literal_eval(literal))
    return msgids


def catalog(language: str) -> tuple[Path, Path]:
    directory = Path(settings.LOCALE_PATHS[0]) / LOCALE_DIRS[language] / "LC_MESSAGES"
    return directory / "django.po", directory / "django.mo"


def test_every_language_has_a_catalog():
    assert set(LOCALE_DIRS) == set(OTHER_LANGUAGES)
    present = {path.name for path in Path(settings.LOCALE_PATHS[0]).iterdir() if path.is_dir()}
    # The email languages, and the UI's languages (Persian and Hebrew have UI catalogues too).
    ui = {to_locale(code) for code, _name in settings.LANGUAGES if code != "en"}
    assert present == set(LOCALE_DIRS.values()) | ui
    assert set(LOCALE_DIRS.values()) <= ui


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_po_is_complete_and_mo_is_up_to_date(language):
    po_path, mo_path = catalog(language)
    header, *everything = parse_po(po_path)
    # The catalogue also holds the portal's UI strings (checked by tests/i18n); here: every string
    # of the emails is translated.
    entries = [e for e in everything if any("/email/" in ref for ref in e["refs"])]
    translated = [e for e in everything if e["msgstr"].strip() and "fuzzy" not in e["flags"]]

    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert f"Language: {LOCALE_DIRS[language]}\n" in header["msgstr"]
    assert "Content-Type: text/plain; charset=UTF-8\n" in header["msgstr"]
    assert "Plural-Forms: nplurals=" in header["msgstr"]
    for entry in entries:
        assert entry["msgstr"].strip(), f"{language}: no translation for {entry['msgid']!r}"
        assert "fuzzy" not in entry["flags"], f"{language}: fuzzy {entry['msgid']!r}"
        for placeholder in re.findall(r"%\(\w+\)s", entry["msgid"]):
            assert placeholder in entry["msgstr"], f"{language}: {placeholder} lost in {entry['msgid']!r}"
    assert {entry["msgid"] for entry in entries} >= template_msgids()

    with mo_path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert {key if isinstance(key, str) else key[0] for key in compiled._catalog if key} == {
        entry["msgid"] for entry in translated
    }
    for entry in entries:
        assert compiled.gettext(entry["msgid"]) == entry["msgstr"], f"{language}: run msgfmt"


# --- The portal account email uses the same catalogs ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [
        ("fr", "Votre compte SmartPlus", "Choisissez votre mot de passe avec ce lien"),
        ("ko", "SmartPlus 계정 안내", "다음 링크에서 비밀번호를 설정하세요"),
    ],
)
def test_portal_account_email_is_translated(mailoutbox, language, subject, phrase):
    user = PropertyManagerFactory(language=language, email="pm.lang@example.test")

    account_email_send(user=user)

    message = mailoutbox[0]
    assert message.to == ["pm.lang@example.test"]
    assert message.subject == subject
    assert phrase in message.body
    assert user.username in message.body
    assert settings.SMARTPLUS_BASE_URL in message.body
    assert "Choose your password" not in message.body
    assert "If you did not expect this email" not in message.body


# --- The Reset Password email ---------------------------------------------------------------------


def test_reset_email_says_the_password_was_reset(mailoutbox):
    resident_account_email_send(resident=make_resident(), password=PASSWORD, reset=True)
    message = mailoutbox[0]
    assert message.subject == "Your new SmartPlus app password for Luna Gardens"
    assert "The password of your SmartPlus app account for Luna Gardens has been reset." in message.body
    assert "has been created" not in message.body
    assert f"Password: {PASSWORD}" in message.body


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_reset_email_is_translated(mailoutbox, language):
    resident_account_email_send(resident=make_resident(), password=PASSWORD, reset=True)
    english = mailoutbox.pop()
    resident_account_email_send(resident=make_resident(language=language), password=PASSWORD)
    created = mailoutbox.pop()
    resident_account_email_send(resident=make_resident(language=language), password=PASSWORD, reset=True)
    message = mailoutbox.pop()
    assert message.subject not in (english.subject, created.subject)
    assert "Luna Gardens" in message.subject and PASSWORD in message.body
    assert "has been reset" not in message.body and "new SmartPlus app password" not in message.subject
    assert message.body != created.body
