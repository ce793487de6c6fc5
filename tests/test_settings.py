"""Production settings pass Django's deployment checks, and refuse to start without a real key."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _clean_env() -> dict:
    # The test process allows async-unsafe ORM use for Playwright; a deployment never does.
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**_clean_env(), "DJANGO_SETTINGS_MODULE": "smartplus.settings.production", **env},
    )


PRODUCTION_SECRET = "k" * 20 + "-production-" * 4
FIELD_KEY = "cHJvZHVjdGlvbi10ZXN0LWtleS0wMTIzNDU2Nzg5YWI="


def test_check_deploy_reports_nothing():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=PRODUCTION_SECRET,
        SMARTPLUS_FIELD_KEYS=FIELD_KEY,
        SMARTPLUS_TRUSTED_PROXIES="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_run_without_the_number_of_trusted_proxies():
    """Behind the proxy every client would share the proxy's address, and its login limit."""
    env = {k: v for k, v in _clean_env().items() if k != "SMARTPLUS_TRUSTED_PROXIES"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "smartplus.settings.production",
            "SECRET_KEY": PRODUCTION_SECRET,
            "SMARTPLUS_FIELD_KEYS": FIELD_KEY,
        },
    )
    assert result.returncode != 0
    assert "smartplus.E004" in result.stderr and "SMARTPLUS_TRUSTED_PROXIES" in result.stderr


def test_production_refuses_a_missing_secret_key():
    result = _manage("check", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_field_keys():
    result = _manage("check", SECRET_KEY=PRODUCTION_SECRET, SMARTPLUS_FIELD_KEYS="")
    assert result.returncode != 0
    assert "SMARTPLUS_FIELD_KEYS must hold at least one Fernet key" in result.stderr


def test_production_refuses_a_field_key_that_is_not_a_fernet_key():
    result = _manage("check", SECRET_KEY=PRODUCTION_SECRET, SMARTPLUS_FIELD_KEYS="not-a-key")
    assert result.returncode != 0
    assert "is not a Fernet key" in result.stderr


def test_device_settings_are_checked_at_start(settings):
    from smartplus.checks import device_settings_check

    settings.SMARTPLUS_DEVICE_NETWORKS = ["10.20.0.0/16", "192.168.1.0/24"]
    assert device_settings_check() == []
    settings.SMARTPLUS_DEVICE_NETWORKS = ["10.20.0.0/16", "site-vpn"]
    settings.SMARTPLUS_UPGRADE_DEADLINE = 4000
    assert [e.id for e in device_settings_check()] == ["smartplus.E002", "smartplus.E003"]


def test_the_device_lan_authentication_is_checked_at_start(settings):
    from smartplus.checks import device_settings_check

    settings.SMARTPLUS_DEVICE_LAN_AUTH = "digest"
    settings.SMARTPLUS_DEVICE_LAN_USERNAME, settings.SMARTPLUS_DEVICE_LAN_PASSWORD = "api", "s3cret"
    assert device_settings_check() == []
    settings.SMARTPLUS_DEVICE_LAN_USERNAME = ""
    assert [e.id for e in device_settings_check()] == ["smartplus.E006"]
    settings.SMARTPLUS_DEVICE_LAN_AUTH = "token"
    assert [e.id for e in device_settings_check()] == ["smartplus.E005"]


def test_the_liveness_cache_is_checked_at_start(settings):
    from smartplus.checks import device_settings_check

    settings.SMARTPLUS_DEVICE_LIVENESS = "redis"
    assert device_settings_check() == []  # the tests' Redis and PostgreSQL
    settings.REDIS_URL = ""
    assert [e.id for e in device_settings_check()] == ["smartplus.E008"]
    settings.SMARTPLUS_DEVICE_LIVENESS = "memcached"
    assert [e.id for e in device_settings_check()] == ["smartplus.E007"]
