"""The fake weather provider over HTTP, with the portal's Open-Meteo client pointed at it."""

from __future__ import annotations

import pytest

from weather.fakeprovider import FakeWeather


@pytest.fixture
def fake_weather(settings):
    with FakeWeather() as fake:
        settings.SMARTPLUS_WEATHER_ENABLED = True
        settings.SMARTPLUS_WEATHER_GEOCODING_URL = fake.geocoding_url
        settings.SMARTPLUS_WEATHER_FORECAST_URL = fake.forecast_url
        settings.SMARTPLUS_WEATHER_READ_TIMEOUT = 2.0
        yield fake
