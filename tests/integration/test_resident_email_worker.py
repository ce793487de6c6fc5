"""A real Celery worker on the real Redis broker sends a new resident's app account email through a
real SMTP server, in the resident's language, with the password the worker made usable."""

from __future__ import annotations

import email
import re
import socket
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.hashers import check_password, is_password_usable
from django.db import connection
from django.test import Client
from django.urls import reverse

from residents.models import Resident
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


def _route_resident_emails(routes) -> None:
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # cached; rebuilt from the routes on next use


@pytest.fixture
def celery_worker_real(settings):
    """A worker on its own queue, named after this test database: integration runs of other
    test databases share the Redis broker and must not take (or hand us) each other's jobs."""
    queue = f"resident-email-{connection.settings_dict['NAME']}"
    old_routes = app.conf.task_routes
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    _route_resident_emails({"residents.tasks.send_resident_account_email": {"queue": queue}})
    try:
        with start_worker(
            app, perform_ping_check=False, loglevel="WARNING", concurrency=1, pool="solo", queues=[queue]
        ):
            yield
    finally:
        _route_resident_emails(old_routes)
        app.conf.task_always_eager = True


def _wait_for(inbox, count: int = 1, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_new_resident_account_email_goes_through_worker_and_smtp_in_its_language(
    smtp_server, celery_worker_real
):
    w = build_world()
    client = Client()
    client.force_login(w.installer_a)
    data = {
        "number": "2#05",
        "web_relay_id": "0",
        "call_type": "0",
        "call_mode": "ip",
        "first_name": "Amélie",
        "last_name": "Durand",
        "email": "amelie.durand@example.test",
        "language": "fr",
    }
    response = client.post(reverse("residents:apartment_add", args=[w.building_a.pk]), data)
    assert response.status_code == 302

    _wait_for(smtp_server)
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["amelie.durand@example.test"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["To"] == "amelie.durand@example.test"
    assert message["Subject"] == "Votre compte de l'application SmartPlus pour Alpha Gardens"
    body = message.get_content()
    assert "Bonjour Amélie Durand," in body
    assert "amelie.durand@example.test" in body and "2#05" in body and "Alpha Block" in body
    assert "has been created" not in body  # French, not English

    match = re.search(r"^Mot de passe\s*:\s*(\S+)\s*$", body, re.MULTILINE)
    assert match, body
    password = match.group(1)

    resident = Resident.objects.get(email="amelie.durand@example.test")
    assert resident.is_family_master and resident.apartment.number == "2#05"
    assert is_password_usable(resident.app_password)
    assert check_password(password, resident.app_password)
    assert not check_password(password + "x", resident.app_password)

    # Exactly one email: nothing else was queued behind it.
    time.sleep(1)
    assert len(smtp_server.messages) == 1
