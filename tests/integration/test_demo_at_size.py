"""The embedded demo at demo size: `make demo` (SQLite, the filesystem broker, runserver, worker,
beat and the simulator, all from `manage.py rundemo`) with 200 simulated devices heartbeating every
15 s for two minutes answers no 5xx, and every device shows Online at the end.

Runs in its own SMARTPLUS_DATA_DIR with its own SQLite file, as a new machine would; takes about
2.5 minutes.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent
DEVICES = 200
INTERVAL = 15
RUN_SECONDS = 120
OFFLINE_AFTER = 300  # the demo's default: Online is a heartbeat within this many seconds
# Variables of the developer's environment (.env is read without overwriting) that would point
# the demo at PostgreSQL and Redis instead of its own SQLite file and filesystem broker.
OVERRIDES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "SMARTPLUS_FIELD_KEYS", "DEBUG")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env(data_dir: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in OVERRIDES and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "smartplus.settings.dev",
        "SMARTPLUS_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'smartplus.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "filesystem://",
        "SMARTPLUS_DEVICE_HEARTBEAT_INTERVAL": str(INTERVAL),
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_200_simulated_devices_on_the_embedded_demo_get_no_5xx_and_stay_online(tmp_path):
    env = demo_env(tmp_path)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo", "--devices", str(DEVICES))
    database = tmp_path / "smartplus.sqlite3"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM devices_device").fetchone() == (DEVICES,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    port = free_port()
    log_path = tmp_path / "rundemo.log"
    with open(log_path, "wb") as log:
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        time.sleep(RUN_SECONDS)
        assert demo.poll() is None, log_path.read_text(errors="replace")[-3000:]
        now = datetime.now(UTC)
        with sqlite3.connect(database) as db:
            seen = [row[0] for row in db.execute("SELECT last_seen_at FROM devices_device")]
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    output = log_path.read_text(errors="replace")

    statuses = re.findall(r'HTTP/1\.1" (\d{3}) ', output)
    heartbeats = len(re.findall(r'"POST /device-api/v1/heartbeat HTTP/1\.1" 200 ', output))
    server_errors = [s for s in statuses if s.startswith("5")]
    assert not server_errors, f"{len(server_errors)} 5xx replies"
    # A 5xx whose device gave up waiting leaves no access-log line, only Django's error log, and
    # the simulator logs every failed call.
    assert "Internal Server Error" not in output
    assert "database is locked" not in output
    assert not re.search(r"(heartbeat|register) failed", output), re.findall(r".*failed.*", output)[:5]
    # Every device heartbeat about every 15 s for two minutes (the first ones spread over one interval).
    assert heartbeats >= DEVICES * (RUN_SECONDS - INTERVAL) / INTERVAL * 0.9, heartbeats
    # Online, and more: every device was heard from within the last two intervals.
    assert len(seen) == DEVICES and all(seen), "a device never heartbeat"
    ages = [(now - datetime.fromisoformat(value).replace(tzinfo=UTC)).total_seconds() for value in seen]
    assert max(ages) <= min(2 * INTERVAL, OFFLINE_AFTER), sorted(ages)[-5:]
