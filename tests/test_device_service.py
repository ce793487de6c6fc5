"""The device API service (`smartplus.device_wsgi` with `smartplus.settings.device_api`) serves the
device URLs and nothing of the portal, with JSON errors and the bare middleware stack.

Runs the production-based settings in a fresh interpreter, as the compose `device-api` service does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json
from smartplus.device_wsgi import application
from django.conf import settings
from django.test import Client

client = Client(HTTP_HOST="localhost")
heartbeat = client.post("/device-api/v1/heartbeat", b"{}", content_type="application/json")
replies = {path: client.get(path) for path in ("/", "/admin/", "/accounts/login/", "/autop/0C1105000001.cfg")}
print(json.dumps({
    "middleware": settings.MIDDLEWARE,
    "heartbeat": [heartbeat.status_code, heartbeat.json(), heartbeat.get("WWW-Authenticate")],
    "replies": {path: [r.status_code, r["Content-Type"]] for path, r in replies.items()},
}))
"""


def run(script: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **base,
            "SECRET_KEY": "device-service-test-key-" + "x" * 40,
            "SMARTPLUS_FIELD_KEYS": "ZmFrZS10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=",
            "SECURE_SSL_REDIRECT": "false",
            **env,
        },
    )


def test_the_device_service_serves_device_urls_only_with_json_errors():
    result = run(SCRIPT, DJANGO_SETTINGS_MODULE="smartplus.settings.device_api")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    assert out["middleware"] == [
        "django.middleware.security.SecurityMiddleware",
        "devices.middleware.DeviceAPIMiddleware",
        "allauth.account.middleware.AccountMiddleware",
    ]
    # No credentials: refused before any query, as on the portal.
    assert out["heartbeat"] == [
        401,
        {"error": "unauthorized", "message": "Unknown device or wrong secret."},
        'Basic realm="device-api"',
    ]
    assert out["replies"] == {
        "/": [404, "application/json"],
        "/admin/": [404, "application/json"],
        "/accounts/login/": [404, "application/json"],
        "/autop/0C1105000001.cfg": [401, "application/json"],
    }


def test_the_device_entry_point_refuses_the_whole_portal():
    result = run("import smartplus.device_wsgi", DJANGO_SETTINGS_MODULE="smartplus.settings.production")
    assert result.returncode != 0
    assert "smartplus.device_wsgi serves the device API only" in result.stderr
