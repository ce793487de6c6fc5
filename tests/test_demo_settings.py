"""The demo (smartplus.settings.dev) makes its own keys and shows no debug pages.

Each case runs the demo settings in a fresh interpreter, with its own SMARTPLUS_DATA_DIR and
SQLite database, as `make demo` would on a new machine.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
# What the demo ran on before: the published key, and the field key derived from it.
PUBLISHED_KEY = "insecure-dev-only-key-never-use-in-production"
DERIVED_FIELD_KEY = "W3wyYr83A3aFNFEaNS1DLVKn8nM_tFeBJ8Rs99AB8N4="

SCRIPT = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

client = Client(HTTP_HOST="127.0.0.1")
missing = client.get("/no-such-page/")
css = client.get("/static/css/portal.css")
css_text = b"".join(css.streaming_content).decode()[:200] if css.status_code == 200 else ""
print(json.dumps({
    "SECRET_KEY": settings.SECRET_KEY,
    "SMARTPLUS_FIELD_KEYS": settings.SMARTPLUS_FIELD_KEYS,
    "DEBUG": settings.DEBUG,
    "missing": [missing.status_code, missing.content.decode()],
    "css": [css.status_code, css_text],
}))
"""

# Variables that would decide the outcome instead of the demo's defaults.
OVERRIDES = ("SECRET_KEY", "SMARTPLUS_FIELD_KEYS", "DEBUG", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


def demo(data_dir: Path, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in OVERRIDES and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "smartplus.settings.dev",
            "SMARTPLUS_DATA_DIR": str(data_dir),
            # .env (the developer's PostgreSQL and Redis) is read without overwriting: set ours.
            "DATABASE_URL": f"sqlite:///{data_dir / 'demo.sqlite3'}",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "filesystem://",
            **env,
        },
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_new_demo_makes_its_own_keys_and_keeps_them_private(tmp_path):
    first = demo(tmp_path)
    key_file = tmp_path / "demo-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first["SECRET_KEY"] != PUBLISHED_KEY and len(first["SECRET_KEY"]) >= 50
    (field_key,) = first["SMARTPLUS_FIELD_KEYS"]
    assert field_key != DERIVED_FIELD_KEY
    Fernet(field_key.encode())  # a usable Fernet key
    assert json.loads(key_file.read_text()) == {
        "SECRET_KEY": first["SECRET_KEY"],
        "SMARTPLUS_FIELD_KEYS": first["SMARTPLUS_FIELD_KEYS"],
    }


def test_later_runs_reuse_the_keys_and_another_demo_has_others(tmp_path):
    first = demo(tmp_path / "one")
    again = demo(tmp_path / "one")
    other = demo(tmp_path / "two")
    assert (again["SECRET_KEY"], again["SMARTPLUS_FIELD_KEYS"]) == (
        first["SECRET_KEY"],
        first["SMARTPLUS_FIELD_KEYS"],
    )
    assert other["SECRET_KEY"] != first["SECRET_KEY"]
    assert other["SMARTPLUS_FIELD_KEYS"] != first["SMARTPLUS_FIELD_KEYS"]


def test_a_key_file_left_readable_is_made_private_again(tmp_path):
    demo(tmp_path)
    key_file = tmp_path / "demo-keys.json"
    key_file.chmod(0o644)
    demo(tmp_path)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_keys_from_the_environment_win(tmp_path):
    field_key = Fernet.generate_key().decode()
    both = demo(tmp_path / "both", SECRET_KEY="s" * 60, SMARTPLUS_FIELD_KEYS=field_key)
    assert (both["SECRET_KEY"], both["SMARTPLUS_FIELD_KEYS"]) == ("s" * 60, [field_key])
    assert not (tmp_path / "both" / "demo-keys.json").exists()
    # One of them given: that one is used, the other comes from the demo's file.
    secret_only = demo(tmp_path / "one", SECRET_KEY="s" * 60)
    assert secret_only["SECRET_KEY"] == "s" * 60
    assert (
        secret_only["SMARTPLUS_FIELD_KEYS"]
        == json.loads((tmp_path / "one" / "demo-keys.json").read_text())["SMARTPLUS_FIELD_KEYS"]
    )


def test_the_demo_answers_a_missing_page_with_the_portals_404_and_still_serves_static_files(tmp_path):
    figures = demo(tmp_path)
    assert figures["DEBUG"] is False
    status, body = figures["missing"]
    assert status == 404
    assert 'data-testid="not-found"' in body
    # Django's technical 404 lists the URLconf's patterns (see the DEBUG case below).
    assert "URLconf" not in body and "auditlog_list" not in body
    status, css = figures["css"]
    assert status == 200 and css.strip()


def test_debug_can_still_be_asked_for_and_then_shows_the_technical_404(tmp_path):
    figures = demo(tmp_path, DEBUG="true")
    assert figures["DEBUG"] is True
    status, body = figures["missing"]
    assert status == 404 and "URLconf" in body and "auditlog_list" in body
