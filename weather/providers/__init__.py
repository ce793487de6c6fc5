"""The weather provider interface: geocode an address, read the current weather at coordinates.

One real client (Open-Meteo, `openmeteo.py`); tests and the demo point it at the project's fake
provider server (`weather/fakeprovider`). `provider()` builds the configured one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class ProviderError(Exception):
    """The provider failed, timed out or answered something unusable; the message says why."""


@dataclass(frozen=True)
class Address:
    """What is asked of the geocoder: never a URL, only query parameters."""

    city: str
    country: str  # ISO 3166-1 alpha-2
    state: str = ""
    post_code: str = ""


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    name: str


@dataclass(frozen=True)
class Current:
    temperature_c: float
    weather_code: int
    observed_at: datetime | None


class Provider(Protocol):
    def geocode(self, address: Address) -> Place | None:
        """The address's coordinates, or None when the provider knows no such place."""

    def current(self, latitude: float, longitude: float) -> Current:
        """The current temperature (°C) and WMO weather code there."""


def provider() -> Provider:
    return import_string(settings.SMARTPLUS_WEATHER_PROVIDER)()
