"""A real Celery worker on the real Redis broker sends account emails through a real SMTP server."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import build_world

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_new_property_manager_email_goes_through_worker_and_smtp(smtp_server, celery_worker_real):
    w = build_world()
    client = Client()
    client.force_login(w.installer_a)
    data = {"first_name": "Wora", "last_name": "Ker", "email": "worker.pm@example.test", "language": "en"}
    assert client.post(reverse("accounts:propertymanager_add"), data).status_code == 302

    smtp_server.wait_for()

    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["worker.pm@example.test"]
    body = envelope.content.decode()
    assert "worker.pm@example.test" in body and "/accounts/password/reset/key/" in body


def test_account_email_job_delivered_twice_reaches_the_smtp_server_once(smtp_server, celery_worker_real):
    from accounts.models import User
    from accounts.tasks import send_account_email

    w = build_world()
    User.objects.filter(pk__in=[w.sub_a.pk, w.pm_b.pk]).update(account_email_sent_at=None)
    # The same job twice (a broker redelivery keeps the task id), then another account's job:
    # the solo worker runs them in order, so when that email arrives both copies have run.
    send_account_email.apply_async(args=[w.sub_a.pk], task_id="account-email-sub-a")
    send_account_email.apply_async(args=[w.sub_a.pk], task_id="account-email-sub-a")
    send_account_email.delay(w.pm_b.pk)

    smtp_server.wait_for(2)
    assert [m.rcpt_tos for m in smtp_server.messages] == [[w.sub_a.email], [w.pm_b.email]]
