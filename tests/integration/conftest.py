"""Real parts for integration tests: a local SMTP server and a Celery worker on the Redis broker."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.db import connection

from smartplus.celery import app


class Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"

    def wait_for(self, count: int = 1, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as s:  # aiosmtpd cannot self-check port 0, so pick a free port first
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def _route_all_tasks(routes) -> None:
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # cached; rebuilt from the routes on next use


@pytest.fixture
def celery_worker_real(settings):
    """A real worker on a queue named after this test database: runs against other test
    databases share the Redis broker and must not take (or hand us) each other's jobs."""
    with _worker(settings, concurrency=1, pool="solo"):
        yield


@pytest.fixture
def celery_workers_parallel(settings):
    """The same worker with two threads: two tasks at once, each on its own database connection
    (closed after each task, so none outlives the test)."""
    from celery.signals import task_postrun
    from django.db import connections

    def close(sender=None, **kwargs):
        if not getattr(getattr(sender, "request", None), "is_eager", False):
            connections.close_all()

    task_postrun.connect(close, weak=False, dispatch_uid="integration-close-thread-connections")
    try:
        with _worker(settings, concurrency=2, pool="threads"):
            yield
    finally:
        task_postrun.disconnect(dispatch_uid="integration-close-thread-connections")


@contextlib.contextmanager
def _worker(settings, **options):
    queue = f"integration-{connection.settings_dict['NAME']}"
    old_routes = app.conf.task_routes
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    _route_all_tasks({"*": {"queue": queue}})
    try:
        with start_worker(app, perform_ping_check=False, loglevel="WARNING", queues=[queue], **options):
            yield
    finally:
        _route_all_tasks(old_routes)
        app.conf.task_always_eager = True
