"""A real Celery worker on the real Redis broker sends a new resident's app account email through a
real SMTP server, in the resident's language, with the password the worker made usable."""

from __future__ import annotations

import email
import re
import time
from email import policy

import pytest
from django.contrib.auth.hashers import check_password, is_password_usable
from django.test import Client
from django.urls import reverse

from residents.models import Resident
from tests.factories import build_world

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


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

    smtp_server.wait_for()
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


def test_account_email_job_delivered_twice_reaches_the_smtp_server_once(smtp_server, celery_worker_real):
    from residents.tasks import send_resident_account_email

    w = build_world()
    Resident.objects.filter(pk=w.resident_a.pk).update(email="lily.twice@example.test")
    Resident.objects.filter(pk=w.member_a.pk).update(email="jim.after@example.test")
    # The same job twice (a broker redelivery keeps the task id), then another end user's job:
    # the solo worker runs them in order, so when that email arrives both copies have run.
    send_resident_account_email.apply_async(args=[w.resident_a.pk], task_id="account-email-lily")
    send_resident_account_email.apply_async(args=[w.resident_a.pk], task_id="account-email-lily")
    send_resident_account_email.delay(w.member_a.pk)

    smtp_server.wait_for(2)
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        ["lily.twice@example.test"],
        ["jim.after@example.test"],
    ]
    body = email.message_from_bytes(smtp_server.messages[0].content, policy=policy.default).get_content()
    password = re.search(r"^Password:\s*(\S+)\s*$", body, re.MULTILINE).group(1)
    assert check_password(password, Resident.objects.get(pk=w.resident_a.pk).app_password)
