"""Firmware catalogue entries for tests."""

from __future__ import annotations

import hashlib

from firmware.models import Firmware


def make_firmware(version: str = "29.30.2.900", *, content: bytes = b"R29 firmware image") -> Firmware:
    """A catalogue entry published at a URL (no file to store), with the content's checksum."""
    return Firmware.objects.create(
        version=version,
        version_log=f"{version} release notes",
        url=f"https://firmware.example/{version}.rom",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )
