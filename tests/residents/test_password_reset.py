"""Edit APT's Reset Password: the family master gets a new SmartPlus app password by email, in their
language, once per request; installers, sub-installers and the community's property manager may."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from residents import app_accounts, services
from residents.models import Resident
from smartplus import authz
from smartplus.models import AuditAction, AuditLog

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def master(world):
    resident = world.resident_a
    Resident.objects.filter(pk=resident.pk).update(email="lily@example.test", language="fr")
    resident.refresh_from_db()
    return resident


def password_in(message) -> str:
    return re.search(r"^Mot de passe : (\S+)$", message.body, re.M).group(1)


def reset(world, actor, capture):
    with capture(execute=True):
        return services.resident_app_password_reset(actor=actor, apartment_id=world.apartment_a.pk)


@pytest.mark.parametrize("who", ["installer_a", "sub_a", "pm_a"])
def test_reset_password_emails_a_new_password_in_the_residents_language(
    world, master, who, django_capture_on_commit_callbacks
):
    old_hash = master.app_password
    reset(world, getattr(world, who), django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert message.to == ["lily@example.test"]
    assert message.subject == "Votre nouveau mot de passe de l'application SmartPlus pour Alpha Gardens"
    said = "Le mot de passe de votre compte de l'application SmartPlus pour Alpha Gardens a été réinitialisé."
    assert said in message.body
    assert "a été créé" not in message.body
    master.refresh_from_db()
    assert master.app_password != old_hash
    assert check_password(password_in(message), master.app_password)
    assert master.app_password_reset_requested_at is None
    assert AuditLog.objects.filter(action=AuditAction.RESET, object_id=str(master.pk)).exists()


def test_a_registered_app_gets_its_new_password_too(world, master, django_capture_on_commit_callbacks):
    """Unlike the account email, which never overwrites a password the owner chose."""
    Resident.objects.filter(pk=master.pk).update(app_registered_at="2026-01-01T00:00Z")
    reset(world, world.installer_a, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    master.refresh_from_db()
    assert check_password(password_in(mail.outbox[0]), master.app_password)


def test_a_duplicate_job_sends_no_second_password(world, master, django_capture_on_commit_callbacks):
    reset(world, world.installer_a, django_capture_on_commit_callbacks)
    master.refresh_from_db()
    hashed = master.app_password
    assert app_accounts.app_account_email(resident_id=master.pk, reset=True) is False
    assert len(mail.outbox) == 1
    master.refresh_from_db()
    assert master.app_password == hashed


def test_a_failed_send_keeps_the_request_and_the_retry_sends(world, master):
    old_hash = master.app_password
    services_reset = services.resident_app_password_reset
    with mock.patch("residents.tasks.send_resident_account_email.delay"):
        services_reset(actor=world.installer_a, apartment_id=world.apartment_a.pk)
    with mock.patch("residents.emails.send_mail", side_effect=OSError("SMTP down")), pytest.raises(OSError):
        app_accounts.app_account_email(resident_id=master.pk, reset=True)
    master.refresh_from_db()
    assert master.app_password == old_hash and master.app_password_reset_requested_at is not None
    assert app_accounts.app_account_email(resident_id=master.pk, reset=True) is True
    assert len(mail.outbox) == 1


def test_refused_without_an_email_and_without_a_resident(world):
    with pytest.raises(ValidationError) as exc:
        services.resident_app_password_reset(actor=world.installer_a, apartment_id=world.apartment_a.pk)
    assert "has no email" in exc.value.messages[0]
    world.resident_a.delete()
    with pytest.raises(ValidationError) as exc:
        services.resident_app_password_reset(actor=world.installer_a, apartment_id=world.apartment_a.pk)
    assert exc.value.messages == ["This APT has no resident account yet."]
    assert mail.outbox == []


@pytest.mark.parametrize("who", ["installer_b", "pm_b", "pm_nothing"])
def test_another_tenant_or_an_unassigned_pm_cannot_reset(world, master, who):
    with pytest.raises((authz.NotFound, authz.PermissionDenied)):
        services.resident_app_password_reset(actor=getattr(world, who), apartment_id=world.apartment_a.pk)
    master.refresh_from_db()
    assert master.app_password_reset_requested_at is None and mail.outbox == []


# --- the dialog ------------------------------------------------------------------------------------


def test_edit_apt_offers_reset_password_which_confirms_then_sends(
    client, world, master, django_capture_on_commit_callbacks
):
    client.force_login(world.pm_a)
    url = reverse("residents:apartment_reset_password", args=[world.apartment_a.pk])
    edit_url = reverse("residents:apartment_edit", args=[world.apartment_a.pk])
    edit = client.get(edit_url, **HTMX).content.decode()
    assert f'hx-get="{url}"' in edit and ">Reset Password</a>" in edit

    confirm = client.get(url, **HTMX).content.decode()
    assert "Reset Password" in confirm and "lily@example.test" in confirm
    assert 'data-testid="reset-password-confirm"' in confirm
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    detail_url = reverse("residents:apartment_detail", args=[world.apartment_a.pk])
    assert response.redirect_chain == [(detail_url, 302)]
    assert "A new SmartPlus app password is on its way to lily@example.test." in response.content.decode()
    assert len(mail.outbox) == 1


def test_reset_password_dialog_says_why_when_there_is_no_email(client, world):
    client.force_login(world.installer_a)
    url = reverse("residents:apartment_reset_password", args=[world.apartment_a.pk])
    html = client.get(url, **HTMX).content.decode()
    assert 'data-testid="reset-password-refusal"' in html and "has no email" in html
    assert re.search(r'type="submit" disabled>Send new password', html)
    response = client.post(url, follow=True)
    assert "has no email" in response.content.decode() and mail.outbox == []
