"""The firmware download of an upgrade command: streamed by default, handed to the reverse proxy
(X-Accel-Redirect) or redirected to the storage's own URL when configured, refused when altered."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from firmware import links
from firmware.models import Firmware

pytestmark = pytest.mark.django_db

ROM = b"R29 uploaded firmware " * 1000


@pytest.fixture
def uploaded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    firmware = Firmware(version="29.30.2.901", sha256=hashlib.sha256(ROM).hexdigest(), size=len(ROM))
    firmware.file.save("r29-901.rom", ContentFile(ROM), save=False)
    firmware.save()
    return firmware


def path_of(firmware: Firmware) -> str:
    return urlsplit(links.download_url(firmware.pk)).path


def test_by_default_the_file_streams_from_the_storage(uploaded):
    response = Client().get(path_of(uploaded))
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == ROM
    assert response["Content-Disposition"] == 'attachment; filename="29.30.2.901.rom"'


def test_with_accel_redirect_the_proxy_sends_the_file(uploaded, settings):
    settings.SMARTPLUS_FIRMWARE_ACCEL_REDIRECT = "/protected-media/"
    response = Client().get(path_of(uploaded))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{uploaded.file.name}"
    assert response["Content-Disposition"] == 'attachment; filename="29.30.2.901.rom"'


def test_with_storage_redirect_the_device_goes_to_the_storage_url(uploaded, settings):
    settings.SMARTPLUS_FIRMWARE_STORAGE_REDIRECT = True
    response = Client().get(path_of(uploaded))
    assert response.status_code == 302 and response["Location"] == uploaded.file.url


def test_an_altered_link_is_refused_whatever_the_mode(uploaded, settings):
    settings.SMARTPLUS_FIRMWARE_ACCEL_REDIRECT = "/protected-media/"
    response = Client().get(path_of(uploaded) + "x")
    assert response.status_code == 403 and response.json()["error"] == "bad_link"
    assert "X-Accel-Redirect" not in response
