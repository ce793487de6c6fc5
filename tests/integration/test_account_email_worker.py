"""A real Celery worker on the real Redis broker sends account emails through a real SMTP server."""

from __future__ import annotations

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.test import Client
from django.urls import reverse

from smartplus.celery import app
from tests.factories import build_world

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class _Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as s:  # aiosmtpd cannot self-check port 0, so pick a free port first
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


@pytest.fixture
def celery_worker_real(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    with start_worker(app, perform_ping_check=False, loglevel="WARNING", concurrency=1, pool="solo"):
        yield
    app.conf.task_always_eager = True


def test_new_property_manager_email_goes_through_worker_and_smtp(smtp_server, celery_worker_real):
    w = build_world()
    client = Client()
    client.force_login(w.installer_a)
    data = {"first_name": "Wora", "last_name": "Ker", "email": "worker.pm@example.test", "language": "en"}
    assert client.post(reverse("accounts:propertymanager_add"), data).status_code == 302

    deadline = time.monotonic() + 20
    while not smtp_server.messages and time.monotonic() < deadline:
        time.sleep(0.1)

    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["worker.pm@example.test"]
    body = envelope.content.decode()
    assert "worker.pm@example.test" in body and "/accounts/password/reset/key/" in body
