"""Open-Meteo's geocoding and forecast APIs (plain JSON over HTTPS).

The base URLs and an optional API key (commercial plans) are settings; what communities typed
goes only into query parameters of those URLs, never into a URL of its own.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import requests
from django.conf import settings

from . import Address, Current, Place, ProviderError

GEOCODE_RESULTS = 10


class OpenMeteo:
    def __init__(self, *, geocoding_url: str | None = None, forecast_url: str | None = None, api_key=None):
        self.geocoding_url = geocoding_url or settings.SMARTPLUS_WEATHER_GEOCODING_URL
        self.forecast_url = forecast_url or settings.SMARTPLUS_WEATHER_FORECAST_URL
        self.api_key = settings.SMARTPLUS_WEATHER_API_KEY if api_key is None else api_key
        self.timeout = (settings.SMARTPLUS_WEATHER_CONNECT_TIMEOUT, settings.SMARTPLUS_WEATHER_READ_TIMEOUT)

    def _get(self, url: str, params: dict) -> dict:
        if self.api_key:
            params = {**params, "apikey": self.api_key}
        try:
            response = requests.get(url, params=params, timeout=self.timeout, allow_redirects=False)
        except requests.Timeout as exc:
            raise ProviderError(f"no answer within {self.timeout[1]} s") from exc
        except requests.RequestException as exc:
            raise ProviderError(f"cannot reach the provider: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            reason = ""
            with contextlib.suppress(ValueError):
                reason = str(response.json().get("reason", ""))[:120]
            raise ProviderError(f"HTTP {response.status_code}{': ' + reason if reason else ''}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderError("the answer is not JSON") from exc
        if not isinstance(data, dict):
            raise ProviderError("the answer is not a JSON object")
        return data

    def geocode(self, address: Address) -> Place | None:
        params = {"name": address.city, "count": GEOCODE_RESULTS, "language": "en", "format": "json"}
        if address.country:
            params["countryCode"] = address.country
        results = self._get(self.geocoding_url, params).get("results") or []
        candidates = [r for r in results if isinstance(r, dict) and _number(r, "latitude") is not None]
        if not candidates:
            return None
        best = max(candidates, key=lambda r: _score(r, address))
        parts = [str(best.get("name", "")), str(best.get("admin1", "")), str(best.get("country_code", ""))]
        return Place(
            latitude=_number(best, "latitude"),
            longitude=_number(best, "longitude"),
            name=", ".join(p for p in parts if p)[:200],
        )

    def current(self, latitude: float, longitude: float) -> Current:
        data = self._get(
            self.forecast_url,
            {
                "latitude": f"{latitude:.4f}",
                "longitude": f"{longitude:.4f}",
                "current": "temperature_2m,weather_code",
                "timezone": "GMT",
            },
        )
        current = data.get("current")
        if not isinstance(current, dict):
            raise ProviderError("the answer has no current weather")
        temperature, code = _number(current, "temperature_2m"), _number(current, "weather_code")
        if temperature is None or code is None:
            raise ProviderError("the answer has no temperature or weather code")
        observed = None
        with contextlib.suppress(ValueError):
            observed = datetime.fromisoformat(str(current.get("time"))).replace(tzinfo=UTC)
        return Current(temperature_c=temperature, weather_code=int(code), observed_at=observed)


def _number(data: dict, key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _score(result: dict, address: Address) -> tuple:
    """Prefer the result in the community's state and post code, then the most populous."""
    state = address.state.strip().lower()
    in_state = bool(state) and state in str(result.get("admin1", "")).lower()
    postcodes = [str(p).lower() for p in result.get("postcodes") or []]
    in_post_code = bool(address.post_code) and address.post_code.lower() in postcodes
    population = result.get("population") if isinstance(result.get("population"), int) else 0
    return (in_post_code, in_state, population)
