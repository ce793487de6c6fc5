"""A rollout's nudges under a real Celery worker reuse the worker's database connection: the
nudge tasks carry the devices' LAN addresses and never read the database, and the tasks that do
share one connection (CONN_MAX_AGE) instead of Celery's Django fixup opening one per task."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connections
from django.db.backends.signals import connection_created

from devices import tasks as device_tasks
from devices.models import Device
from firmware import services
from firmware.choices import OperationStatus, Timing
from tests.factories import build_world, make_device
from tests.firmware.factories import make_firmware
from tests.workers import TaskLog

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DEVICES = 60


class DeviceLan(ThreadingHTTPServer):
    """Every device's LAN API on one loopback port: counts the nudges (POST /api/cloud/poll)."""

    daemon_threads = True

    def __init__(self):
        self.polls = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/api/cloud/poll":
                    with server.lock:
                        server.polls += 1
                body = json.dumps({"retcode": 0, "data": {}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def device_lan(settings):
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    server = DeviceLan()
    settings.SMARTPLUS_DEVICE_LAN_PORT = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def opened_by_worker():
    """Connections the worker opens (any thread but this test's), as in production: kept for
    CONN_MAX_AGE seconds (the test settings close them at once)."""
    main = threading.get_ident()
    opened: list[str] = []

    def record(sender, connection, **kwargs):
        if threading.get_ident() != main:
            opened.append(threading.current_thread().name)

    connection_created.connect(record, weak=False)
    settings_dict = connections.settings["default"]
    old_age = settings_dict["CONN_MAX_AGE"]
    settings_dict["CONN_MAX_AGE"] = 60
    yield opened
    settings_dict["CONN_MAX_AGE"] = old_age
    connection_created.disconnect(record)


def test_a_rollouts_nudges_reuse_the_workers_connection(
    device_lan, monkeypatch, opened_by_worker, celery_worker_real
):
    # Small chunks and batches, so the rollout is many tasks of each kind.
    monkeypatch.setattr(services, "CHUNK", 20)
    monkeypatch.setattr(device_tasks, "NUDGE_BATCH", 10)
    w = build_world()
    firmware = make_firmware("29.30.2.900")
    for i in range(DEVICES):
        make_device(w.community_a, f"Door {i:02}", firmware_version="29.30.2.14")
    Device.objects.filter(model="R29").update(lan_address="127.0.0.1")
    log = TaskLog()
    try:
        upgrade = services.upgrade_create(
            actor=w.installer_a,
            firmware=firmware,
            match=services.DeviceMatch(),
            timing=Timing.NOW,
        )
        assert upgrade.operations.count() == Device.objects.filter(model="R29").count() >= DEVICES
        deadline = time.monotonic() + 60
        while device_lan.polls < DEVICES and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # the last task's postrun
    finally:
        log.close()

    devices = Device.objects.filter(model="R29").count()
    assert device_lan.polls == devices
    batches = log.named("devices.tasks.devices_nudge_task")
    assert len(batches) == -(-devices // 10)
    assert sorted(t[0] for (targets, *_rest) in batches for t in targets) == sorted(
        Device.objects.filter(model="R29").values_list("pk", flat=True)
    )
    assert log.named("devices.tasks.device_nudge_task") == []
    assert len(log.named("firmware.tasks.operations_start_task")) == -(-devices // 20)
    in_progress = upgrade.operations.filter(status=OperationStatus.IN_PROGRESS).count()
    assert in_progress == devices
    # 1 dispatch + 4 starts + 7 nudge batches ran; they opened one connection, not one each.
    assert len(opened_by_worker) == 1, opened_by_worker
