"""The firmware catalogue in the super manager's admin: upload (checksum and size computed) or URL
(checksum entered), exactly one of the two, the model from the version, the bytes fixed once saved."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from firmware.admin import file_digest
from firmware.models import Firmware
from tests.firmware.factories import make_firmware

pytestmark = pytest.mark.django_db

ADD = "/admin/firmware/firmware/add/"
ROM = b"\x7fROM" + bytes(range(256)) * 1024  # 256 KB: several upload chunks


@pytest.fixture
def admin_client(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.superuser)
    return client


def rom(name: str = "29.30.2.805.rom", content: bytes = ROM) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def form(**overrides) -> dict:
    return {
        "version": "29.30.2.805",
        "version_log": "29.30.2.805",
        "url": "",
        "sha256": "",
        "size": "",
        **overrides,
    }


def errors(response) -> dict[str, list[str]]:
    return {field: list(errs) for field, errs in response.context["adminform"].form.errors.items()}


def test_upload_computes_the_checksum_and_size_and_derives_the_model(admin_client, tmp_path):
    response = admin_client.post(ADD, form(file=rom()))
    assert response.status_code == 302, errors(response)
    firmware = Firmware.objects.get()
    assert firmware.sha256 == hashlib.sha256(ROM).hexdigest()
    assert firmware.size == len(ROM)
    assert firmware.model == "R29" and firmware.url == ""
    assert (tmp_path / firmware.file.name).read_bytes() == ROM


def test_an_entered_checksum_must_match_the_upload(admin_client):
    good = hashlib.sha256(ROM).hexdigest()
    response = admin_client.post(ADD, form(file=rom(), sha256="0" * 64))
    assert response.status_code == 200
    assert f"The uploaded file's SHA-256 is {good}, not the one entered." in errors(response)["sha256"]
    assert not Firmware.objects.exists()
    assert admin_client.post(ADD, form(file=rom(), sha256=good.upper())).status_code == 302


def test_url_without_a_checksum_is_refused(admin_client):
    response = admin_client.post(ADD, form(url="https://firmware.example/29.30.2.805.rom"))
    assert response.status_code == 200
    assert errors(response) == {
        "sha256": ["Enter the SHA-256 of the file at this URL: devices check the download with it."]
    }
    assert not Firmware.objects.exists()


def test_url_with_its_checksum_is_stored_without_fetching_it(admin_client, monkeypatch):
    import urllib.request

    def no_fetch(*args, **kwargs):
        raise AssertionError("the server must never fetch a firmware URL")

    monkeypatch.setattr(urllib.request, "urlopen", no_fetch)
    digest = "AB" * 32
    response = admin_client.post(
        ADD, form(url="https://firmware.example/29.30.2.805.rom", sha256=f" {digest} ", size="1024")
    )
    assert response.status_code == 302, errors(response)
    firmware = Firmware.objects.get()
    assert (firmware.sha256, firmware.size, firmware.file.name) == (digest.lower(), 1024, "")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "file", "Upload a .rom file or give its URL."),
        ({"file": "rom", "url": "https://firmware.example/a.rom"}, "url", "not both"),
        ({"file": "bin"}, "file", "File extension “bin” is not allowed."),
        ({"url": "ftp://firmware.example/a.rom", "sha256": "a" * 64}, "url", "http:// or https://"),
        ({"url": "not a url", "sha256": "a" * 64}, "url", "Enter a valid URL."),
        ({"url": "https://firmware.example/a.rom", "sha256": "xyz"}, "sha256", "64 hex digits"),
        ({"version": "55.30.2.805", "file": "rom"}, "version", "names no known model"),
        ({"version": "R29-latest", "file": "rom"}, "version", "numbers and dots"),
    ],
)
def test_refusals_are_told_at_their_field(admin_client, fields, field, message):
    if fields.get("file") == "rom":
        fields = {**fields, "file": rom()}
    elif fields.get("file") == "bin":
        fields = {**fields, "file": rom("29.30.2.805.bin")}
    response = admin_client.post(ADD, form(**fields))
    assert response.status_code == 200
    assert any(message in text for text in errors(response).get(field, [])), errors(response)
    assert not Firmware.objects.exists()


def test_a_version_already_in_the_catalogue_is_refused(admin_client):
    make_firmware("29.30.2.805")
    response = admin_client.post(ADD, form(file=rom()))
    assert "Firmware with this Version already exists." in errors(response)["version"]


def test_once_saved_only_the_version_log_changes(admin_client):
    firmware = make_firmware("29.30.2.805")
    url = reverse("admin:firmware_firmware_change", args=[firmware.pk])
    page = admin_client.get(url)
    assert set(page.context["adminform"].form.fields) == {"version_log"}
    body = page.content.decode()
    assert "URL https://firmware.example/29.30.2.805.rom" in body and firmware.sha256 in body
    response = admin_client.post(
        url, {"version_log": "Fixes the relay", "sha256": "0" * 64, "version": "1.1.1"}
    )
    assert response.status_code == 302
    firmware.refresh_from_db()
    assert (firmware.version_log, firmware.version) == ("Fixes the relay", "29.30.2.805")
    assert firmware.sha256 == hashlib.sha256(b"R29 firmware image").hexdigest()


def test_changelist_shows_version_model_and_created(admin_client):
    make_firmware("29.30.2.805")
    make_firmware("113.30.6.89")
    response = admin_client.get("/admin/firmware/firmware/")
    assert response.status_code == 200
    assert list(response.context["cl"].list_display) == ["action_checkbox", "version", "model", "created"]
    body = response.content.decode()
    assert "C313" in body and "R29" in body


def test_file_digest_reads_in_chunks_and_rewinds():
    # As a large upload arrives: a temporary file read 64 KB at a time.
    upload = File(io.BytesIO(ROM), name="29.30.2.805.rom")
    chunks = []
    original = upload.chunks

    def spy(*args, **kwargs):
        for chunk in original(*args, **kwargs):
            chunks.append(len(chunk))
            yield chunk

    upload.chunks = spy
    assert file_digest(upload) == (hashlib.sha256(ROM).hexdigest(), len(ROM))
    assert len(chunks) > 1 and max(chunks) < len(ROM)
    assert upload.read(4) == b"\x7fROM"


def test_the_admin_is_the_super_managers(client, world):
    client.force_login(world.installer_a)
    response = client.get(ADD)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
