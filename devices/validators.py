"""Field rules of devices, relays and third-party cameras."""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Digits, * and #: what a caller can press on a keypad.
dtmf_validator = RegexValidator(r"^[0-9*#]{1,8}$", _("Use 1-8 keypad characters: digits, * and #."))

_DOMAIN_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_RTSP = re.compile(r"^rtsp://(?P<authority>[^/?#\s]+)(?P<path>/[^\s]*)?$", re.IGNORECASE)
RTSP_HINT = _("Use the form rtsp://ip:port or rtsp://domain:port, e.g. rtsp://192.168.1.20:554/stream1.")


def _hinted(message: str) -> str:
    return f"{message} {RTSP_HINT}"


def _host_ok(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_DOMAIN_LABEL.match(label) for label in labels)


def validate_rtsp_address(value: str) -> None:
    """rtsp://ip:port or rtsp://domain:port, optionally followed by the camera's stream path.

    The address is stored and handed to apps and devices; the server never connects to it.
    Credentials belong in Username and Password (kept encrypted), never inside the URL.
    """
    match = _RTSP.match(value or "")
    if not match:
        raise ValidationError(_hinted(gettext("Not an RTSP address.")), code="invalid")
    authority = match["authority"]
    if "@" in authority:
        raise ValidationError(
            gettext(
                "Do not put the username or password in the address: fill in Username and Password instead."
            ),
            code="credentials",
        )
    host, sep, port = authority.rpartition(":")
    if not sep or not host or "]" in port:
        raise ValidationError(_hinted(gettext("The address needs a port.")), code="port")
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
        raise ValidationError(_hinted(gettext("The port must be a number from 1 to 65535.")), code="port")
    if not _host_ok(host):
        raise ValidationError(
            _hinted(gettext("%(host)s is not an IP address or domain name.") % {"host": host}), code="host"
        )
