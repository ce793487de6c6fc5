"""MAC addresses: 12 hex digits, typed with or without ":" or "-" separators, stored upper-case."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

_SEPARATORS = re.compile(r"[:\-]")
_MAC = re.compile(r"^[0-9A-F]{12}$")
# Not a device's address: the all-zero and the broadcast MAC.
_RESERVED = {"000000000000", "FFFFFFFFFFFF"}


def normalize_mac(raw) -> str:
    """The stored form of a typed MAC ("0c:11:05-08:93:ca" -> "0C11050893CA"), or ValidationError."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise ValidationError(gettext("Enter the device MAC."), code="required")
    mac = _SEPARATORS.sub("", text).upper()
    if not _MAC.match(mac):
        raise ValidationError(
            gettext(
                '"%(text)s" is not a MAC: enter 12 hex digits (0-9, A-F), with or without ":" or "-" '
                "separators, e.g. 0C11050893CA or 0C:11:05:08:93:CA."
            )
            % {"text": text},
            code="invalid",
        )
    if mac in _RESERVED:
        raise ValidationError(
            gettext("%(mac)s is a reserved address, not a device's MAC.") % {"mac": mac}, code="invalid"
        )
    return mac


def mac_search_term(raw: str) -> str:
    """A partial MAC typed into a search box, in the stored form (separators dropped, upper-case)."""
    return _SEPARATORS.sub("", raw.strip()).upper()


def validate_mac(value: str) -> None:
    """Model-field validator: the value is already in the stored form."""
    if normalize_mac(value) != value:
        raise ValidationError(gettext("Store the MAC as 12 upper-case hex digits."), code="invalid")
