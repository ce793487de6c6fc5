"""Phone numbers of end users: validated with phonenumbers, stored as national digits, shown with
the calling code of the chosen Country / Region (as the spec's forms show "+1 5551234")."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext


def calling_code(country: str) -> str:
    """ "+86" for "CN"; "" when no country is chosen."""
    code = phonenumbers.country_code_for_region(str(country or "").upper()) if country else 0
    return f"+{code}" if code else ""


def normalize(number: str, country: str, *, mobile: bool) -> str:
    """The national significant number of `number` dialled in `country`, or a ValidationError.

    Landlines accept any possible number of the region; mobile numbers must be valid ones.
    """
    number = (number or "").strip()
    if not number:
        return ""
    if not country:
        raise ValidationError(
            gettext("Select the Country / Region of this number first."), code="phone_country"
        )
    region = str(country).upper()
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(gettext("Enter a phone number of digits only."), code="phone_invalid") from None
    if parsed.country_code != phonenumbers.country_code_for_region(region):
        raise ValidationError(
            gettext("This number does not belong to the chosen Country / Region (%(code)s).")
            % {"code": calling_code(country)},
            code="phone_country_mismatch",
        )
    # number_type is UNKNOWN exactly when is_valid_number is false; one call instead of both
    # (each matches the number against its region's patterns; an import does it per row).
    kind = phonenumbers.number_type(parsed) if mobile else None
    ok = kind != phonenumbers.PhoneNumberType.UNKNOWN if mobile else phonenumbers.is_possible_number(parsed)
    if not ok:
        raise ValidationError(
            (
                gettext("Enter a valid mobile number for %(code)s.")
                if mobile
                else gettext("Enter a valid phone number for %(code)s.")
            )
            % {"code": calling_code(country)},
            code="phone_invalid",
        )
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise ValidationError(
            gettext("This is a landline number: enter it under Landline 1, 2 or 3."), code="phone_not_mobile"
        )
    return phonenumbers.national_significant_number(parsed)


def display(number: str, country: str) -> str:
    if not number:
        return ""
    code = calling_code(country)
    return f"{code} {number}" if code else number


def region_for_calling_code(code: object) -> str:
    """The main country of a calling code typed as "+86", "86", "0086" or 86; a ValidationError
    when no country uses it. (+1 is shared by many: the main one, US, validates them all alike.)"""
    digits = str(code).strip().lstrip("+")
    if digits.startswith("00"):
        digits = digits[2:]
    region = (
        phonenumbers.region_code_for_country_code(int(digits))
        if digits.isascii() and digits.isdigit()
        else "ZZ"
    )
    if region in ("ZZ", "001"):
        raise ValidationError(
            f"“{code}” is not a country calling code: enter digits such as 1, 44 or 86.",
            code="calling_code",
        )
    return region
