"""Signed, expiring firmware download links carried by upgrade commands."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "smartplus.firmware.download"


def download_url(firmware_id: int) -> str:
    token = signing.TimestampSigner(salt=SALT).sign(str(firmware_id))
    path = reverse("firmware_api:download", args=[token])
    return f"{settings.SMARTPLUS_BASE_URL.rstrip('/')}{path}"


def firmware_id_for(token: str) -> int | None:
    """The firmware a link points to, or None when it is altered or expired."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=settings.SMARTPLUS_FIRMWARE_LINK_TTL)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None
