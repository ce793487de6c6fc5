"""The fake provider's HTTP server: Open-Meteo's `/v1/search` and `/v1/forecast`, deterministic
per name and per coordinates, with switches for the faults that matter and a call counter.

    with FakeWeather() as fake:
        settings.SMARTPLUS_WEATHER_GEOCODING_URL = fake.geocoding_url
        settings.SMARTPLUS_WEATHER_FORECAST_URL = fake.forecast_url
        ...
        assert fake.calls["forecast"] == 40
        fake.fail = True    # every call answers 500 (or fail = 3: the next three)
        fake.slow = 5.0     # every call waits five seconds first

The same switches over HTTP: GET /_fake/calls, POST /_fake/reset, POST /_fake/switches with a
JSON body {"fail": true|n, "slow": seconds, "shift": degrees}.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("weather.fakeprovider")

# Names the geocoder knows nothing of (as Open-Meteo answers an unknown place: no "results").
UNKNOWN = "nowhere"
CODES = (0, 1, 2, 3, 45, 51, 61, 71, 80, 95)


def _digest(*parts) -> int:
    return int.from_bytes(hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()[:8], "big")


def place_for(name: str, country: str) -> dict:
    """The same coordinates for the same name and country, every run."""
    h = _digest(name.strip().lower(), country.strip().upper())
    latitude = round((h % 140_000) / 1000 - 70, 4)
    longitude = round((h // 140_000 % 360_000) / 1000 - 180, 4)
    return {
        "id": h % 10_000_000,
        "name": name.strip().title(),
        "latitude": latitude,
        "longitude": longitude,
        "country_code": country.strip().upper(),
        "admin1": "",
        "population": h % 1_000_000,
    }


def weather_for(latitude: float, longitude: float, shift: float = 0.0) -> tuple[float, int]:
    """Temperature (°C, one decimal) and WMO code, the same for the same coordinates."""
    h = _digest(f"{latitude:.4f}", f"{longitude:.4f}")
    return round((h % 450) / 10 - 10 + shift, 1), CODES[h // 450 % len(CODES)]


class FakeWeather:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str = "") -> None:
        self.host, self.port, self.api_key = host, port, api_key
        self.fail: bool | int = False
        self.slow = 0.0
        self.shift = 0.0
        self.calls = {"geocode": 0, "forecast": 0}
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def geocoding_url(self) -> str:
        return f"{self.url}/v1/search"

    @property
    def forecast_url(self) -> str:
        return f"{self.url}/v1/forecast"

    def start(self) -> FakeWeather:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-weather").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWeather:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self.fail, self.slow, self.shift = False, 0.0, 0.0
            self.calls = {"geocode": 0, "forecast": 0}
            self.requests.clear()

    # -- what a request gets ---------------------------------------------------------------------

    def _should_fail(self) -> bool:
        with self._lock:
            if self.fail is True:
                return True
            if isinstance(self.fail, int) and self.fail > 0:
                self.fail -= 1
                return True
            return False

    def answer(self, kind: str, query: dict) -> tuple[int, dict]:
        with self._lock:
            self.calls[kind] += 1
            self.requests.append({"kind": kind, **query})
        if self.slow:
            time.sleep(self.slow)
        if self.api_key and query.get("apikey") != self.api_key:
            return 400, {"error": True, "reason": "Invalid API key"}
        if self._should_fail():
            return 500, {"error": True, "reason": "Fake provider failure"}
        if kind == "geocode":
            name = query.get("name", "")
            if not name or UNKNOWN in name.lower():
                return 200, {"generationtime_ms": 0.1}
            return 200, {"results": [place_for(name, query.get("countryCode", ""))], "generationtime_ms": 0.1}
        try:
            latitude, longitude = float(query["latitude"]), float(query["longitude"])
        except (KeyError, ValueError):
            return 400, {"error": True, "reason": "Parameter 'latitude' and 'longitude' required"}
        temperature, code = weather_for(latitude, longitude, self.shift)
        now = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)
        return 200, {
            "latitude": latitude,
            "longitude": longitude,
            "current_units": {"time": "iso8601", "temperature_2m": "°C", "weather_code": "wmo code"},
            "current": {
                "time": now.isoformat(timespec="minutes"),
                "interval": 900,
                "temperature_2m": temperature,
                "weather_code": code,
            },
        }

    def switch(self, body: dict) -> None:
        with self._lock:
            if "fail" in body:
                self.fail = body["fail"] if isinstance(body["fail"], bool | int) else False
            if "slow" in body:
                self.slow = float(body["slow"] or 0)
            if "shift" in body:
                self.shift = float(body["shift"] or 0)


class _Handler(BaseHTTPRequestHandler):
    owner: FakeWeather
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)

    def _reply(self, status: int, data: dict) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up (its timeout) while we were slow.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/v1/search":
            self._reply(*self.owner.answer("geocode", query))
        elif parts.path == "/v1/forecast":
            self._reply(*self.owner.answer("forecast", query))
        elif parts.path == "/_fake/calls":
            self._reply(200, dict(self.owner.calls))
        else:
            self._reply(404, {"error": True, "reason": "Not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}") if length < 4096 else {}
        except ValueError:
            body = {}
        if path == "/_fake/reset":
            self.owner.reset()
            self._reply(200, {"ok": True})
        elif path == "/_fake/switches" and isinstance(body, dict):
            self.owner.switch(body)
            self._reply(200, {"ok": True})
        else:
            self._reply(404, {"error": True, "reason": "Not found"})
