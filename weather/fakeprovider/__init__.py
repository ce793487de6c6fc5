"""A fake Open-Meteo (geocoding + forecast) for tests and the demo; see docs/weather.md."""

from .server import FakeWeather

__all__ = ["FakeWeather"]
