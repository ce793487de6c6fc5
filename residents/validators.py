"""Validators for the spec's APT number rules."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

APT_MAX_DIGITS = 6


def apt_number_validator(value: str) -> None:
    """1-6 digits and "#" (e.g. 2#123), never starting with "#".

    A leading "#" breaks door phones in APT#+PIN mode: they cannot tell the APT from the PIN.
    """
    if not value:
        return
    if any(ch not in "0123456789#" for ch in value):
        raise ValidationError(gettext('Use digits and "#" only, e.g. 2#123.'), code="apt_chars")
    if value.startswith("#"):
        raise ValidationError(
            gettext(
                'The APT cannot start with "#": door phones in APT#+PIN mode could not tell it from the PIN.'
            ),
            code="apt_leading_hash",
        )
    digits = sum(ch.isdigit() for ch in value)
    if digits > APT_MAX_DIGITS:
        raise ValidationError(
            gettext("Use at most %(count)s digits.") % {"count": APT_MAX_DIGITS}, code="apt_digits"
        )
