"""The notification log page (scoped, filtered, exported) and the app's feedback endpoint."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import CustomerService
from notifications.choices import Kind, Status
from notifications.models import Notification
from residents.models import Resident
from tests.factories import SubInstallerFactory, UserFactory

from .conftest import make_site

pytestmark = pytest.mark.django_db


def log_row(site, **fields):
    values = {
        "kind": Kind.EXPIRATION,
        "recipient_email": "someone@example.test",
        "community": site.community,
        "installer": site.installer,
        "group_key": f"k{Notification.objects.count()}",
        "status": Status.SENT,
    }
    return Notification.objects.create(**(values | fields))


@pytest.fixture
def two_tenants(db):
    a, b = make_site(name="Alpha Gardens"), make_site(name="Bravo Heights")
    log_row(a, recipient_email="sent.a@example.test", subject="SmartPlus accounts expired in Alpha Gardens")
    log_row(a, recipient_email="failed.a@example.test", status=Status.FAILED, last_error="SMTPDataError: 451")
    log_row(a, kind=Kind.ACCOUNT, recipient_email="welcome.a@example.test")
    log_row(b, recipient_email="sent.b@example.test")
    return a, b


def page(client, user, **query):
    client.force_login(user)
    response = client.get(reverse("notifications:notification_list"), query)
    assert response.status_code == 200
    return response.content.decode()


def test_installers_and_their_staff_see_their_own_emails(client, two_tenants):
    a, _ = two_tenants
    for user in (a.installer, SubInstallerFactory(installer=a.installer)):
        text = page(client, user)
        assert "sent.a@example.test" in text and "failed.a@example.test" in text
        assert "SMTPDataError: 451" in text and "welcome.a@example.test" in text
        assert "sent.b@example.test" not in text


def test_the_super_manager_sees_every_tenant(client, two_tenants):
    root = UserFactory(role="super_manager", is_superuser=True, is_staff=True)
    text = page(client, root)
    assert "sent.a@example.test" in text and "sent.b@example.test" in text


def test_property_managers_have_no_log(client, two_tenants):
    a, _ = two_tenants
    client.force_login(a.pm)
    assert client.get(reverse("notifications:notification_list")).status_code == 403


def test_filters_by_community_kind_and_status(client, two_tenants):
    a, b = two_tenants
    text = page(client, a.installer, status=Status.FAILED)
    assert "failed.a@example.test" in text and "sent.a@example.test" not in text
    text = page(client, a.installer, kind=Kind.ACCOUNT)
    assert "welcome.a@example.test" in text and "failed.a@example.test" not in text
    text = page(client, a.installer, community=a.community.pk)
    assert "sent.a@example.test" in text
    # Another tenant's community is not a choice: the filter is refused, nothing of B shows.
    assert "sent.b@example.test" not in page(client, a.installer, community=b.community.pk)


def test_export(client, two_tenants):
    a, _ = two_tenants
    client.force_login(a.installer)
    response = client.get(reverse("notifications:notification_list"), {"export": "xlsx", "status": "failed"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("Time", "Kind", "Recipient")
    assert [r[2] for r in rows[1:]] == ["failed.a@example.test"]
    assert "Failed" in rows[1] and "SMTPDataError: 451" in rows[1]


# --- Feedback ---------------------------------------------------------------------------------


@pytest.fixture
def app_user(site):
    resident = site.account("101", None, email="anna@example.test")
    Resident.objects.filter(pk=resident.pk).update(app_password=make_password("app-secret"))
    return resident


def post_feedback(client, body, *, password="app-secret", email="anna@example.test"):
    token = base64.b64encode(f"{email}:{password}".encode()).decode()
    return client.post(
        reverse("notifications:feedback"),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {token}",
    )


def test_feedback_reaches_customer_service_when_receive_feedback_is_on(
    client, site, app_user, mailoutbox, django_capture_on_commit_callbacks
):
    CustomerService.objects.create(
        installer=site.installer,
        phone="+1 555 0100",
        email="Help@Installer.example.test",
        receive_feedback=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_feedback(client, {"text": "The lift door phone is silent."})
    assert response.status_code == 202 and response.json() == {"forwarded": True}
    [message] = mailoutbox
    assert message.to == ["help@installer.example.test"]
    assert message.reply_to == ["anna@example.test"]
    assert message.subject == "SmartPlus feedback from Res 101 (Luna Gardens)"
    assert "The lift door phone is silent." in message.body and "Tower B 101" in message.body
    row = Notification.objects.get(kind=Kind.FEEDBACK)
    assert row.status == Status.SENT and row.installer_id == site.installer.pk


def test_feedback_is_not_forwarded_when_receive_feedback_is_off(client, site, app_user, mailoutbox):
    CustomerService.objects.create(installer=site.installer, phone="+1 555 0100", email="help@example.test")
    response = post_feedback(client, {"text": "Hello"})
    assert response.status_code == 202 and response.json() == {"forwarded": False}
    assert mailoutbox == [] and not Notification.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "body", "status"),
    [
        ({"password": "wrong"}, {"text": "x"}, 401),
        ({"email": "nobody@example.test"}, {"text": "x"}, 401),
        ({}, {"text": ""}, 400),
        ({}, {"text": "x" * 2001}, 400),
        ({}, ["not", "an", "object"], 400),
    ],
)
def test_feedback_refusals(client, app_user, kwargs, body, status):
    assert post_feedback(client, body, **kwargs).status_code == status


def test_a_portal_session_is_no_app_credential(client, site, app_user):
    client.force_login(site.installer)
    response = client.post(reverse("notifications:feedback"), {"text": "x"})
    assert response.status_code == 401


def test_the_log_costs_the_same_queries_for_3_and_30_emails(client, two_tenants):
    from tests.querycounts import get_captured

    a, _ = two_tenants
    client.force_login(a.installer)
    url = reverse("notifications:notification_list")
    _, few = get_captured(client, url)
    for i in range(27):
        log_row(a, recipient_email=f"more{i}@example.test", status=Status.FAILED if i % 3 else Status.SENT)
    response, many = get_captured(client, url)
    assert len(response.context["table"].page.object_list) == 10
    assert len(few) == len(many)


def test_guessing_the_app_password_runs_into_the_limit(client, app_user, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "app_login_failed": "100/m/ip,3/300s/key"}
    for _ in range(3):
        assert post_feedback(client, {"text": "x"}, password="guess").status_code == 401
    refused = post_feedback(client, {"text": "x"})  # now even the right password waits
    assert refused.status_code == 429 and refused["Retry-After"] == "300"
    assert not Notification.objects.exists()


def test_an_end_user_cannot_flood_the_installer_with_feedback(client, site, app_user, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "app_feedback": "2/h/key"}
    CustomerService.objects.create(
        installer=site.installer, phone="+1 555 0100", email="help@example.test", receive_feedback=True
    )
    assert [post_feedback(client, {"text": f"Note {i}"}).status_code for i in range(3)] == [202, 202, 429]
    assert Notification.objects.filter(kind=Kind.FEEDBACK).count() == 2
