"""WMO weather codes (what Open-Meteo's `weather_code` is) and the unit a country reads."""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy as _

CONDITIONS = {
    0: _("Clear sky"),
    1: _("Mainly clear"),
    2: _("Partly cloudy"),
    3: _("Overcast"),
    45: _("Fog"),
    48: _("Fog"),
    51: _("Drizzle"),
    53: _("Drizzle"),
    55: _("Drizzle"),
    56: _("Freezing drizzle"),
    57: _("Freezing drizzle"),
    61: _("Rain"),
    63: _("Rain"),
    65: _("Heavy rain"),
    66: _("Freezing rain"),
    67: _("Freezing rain"),
    71: _("Snow"),
    73: _("Snow"),
    75: _("Heavy snow"),
    77: _("Snow grains"),
    80: _("Rain showers"),
    81: _("Rain showers"),
    82: _("Heavy rain showers"),
    85: _("Snow showers"),
    86: _("Snow showers"),
    95: _("Thunderstorm"),
    96: _("Thunderstorm with hail"),
    99: _("Thunderstorm with hail"),
}

# Countries that read temperatures in °F; every other community's monitors get °C.
FAHRENHEIT_COUNTRIES = frozenset(
    {"US", "BS", "BZ", "KY", "LR", "PW", "FM", "MH", "PR", "GU", "VI", "AS", "MP"}
)


def condition(code: int | None):
    return CONDITIONS.get(code, _("Unknown")) if code is not None else ""


def unit_for(country: str) -> str:
    return "F" if str(country).upper() in FAHRENHEIT_COUNTRIES else "C"


def in_unit(temperature_c: float, unit: str) -> int:
    """Whole degrees, as the monitor's home screen shows them."""
    value = temperature_c * 9 / 5 + 32 if unit == "F" else temperature_c
    return math.floor(value + 0.5)  # half up, not to even
