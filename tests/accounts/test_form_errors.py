"""Bad input on the remaining account forms: a message at the field, nothing saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "", "required"),
        ("email", "nope", "valid email"),
        ("email", "pm_a@example.test", "already used"),
        ("phone", "call me", "Enter a phone number"),
    ],
)
def test_installer_form(client, world, field, value, message):
    client.force_login(world.distributor_a)
    data = {"username": "fresh", "email": "fresh@example.test", "phone": "", field: value}
    response = client.post(reverse("accounts:installer_add"), data)
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert not User.objects.filter(username="fresh").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("email", "x@", "valid email"), ("phone", "12", "Enter a phone number"), ("username", "", "required")],
)
def test_sub_account_form(client, world, field, value, message):
    client.force_login(world.installer_a)
    data = {"username": "desk2", "email": "", "phone": "", field: value}
    response = client.post(reverse("accounts:subaccount_add"), data)
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert not User.objects.filter(username="desk2").exists()


def test_account_setting_refuses_an_unknown_value(client, world):
    client.force_login(world.installer_a)
    response = client.post(reverse("accounts:account_setting"), {"permission_granted": "maybe"})
    assert "permission_granted" in response.context["form"].errors
    world.installer_a.refresh_from_db()
    assert world.installer_a.permission_granted is False


def test_customer_service_bad_email_and_phone(client, world):
    client.force_login(world.installer_a)
    response = client.post(reverse("accounts:customer_service"), {"phone": "abc", "email": "bad"})
    assert set(response.context["form"].errors) == {"phone", "email"}


def test_billing_post_code_and_email(client, world):
    client.force_login(world.installer_a)
    data = {
        "company": "Acme",
        "attn": "Ops",
        "street": "1 Road",
        "city": "Austin",
        "post_code": "78-701",
        "country": "US",
        "tel": "+1 512 555 0100",
        "email": "bad",
    }
    errors = client.post(reverse("accounts:billing_information"), data).context["form"].errors
    assert set(errors) == {"post_code", "email"}
    assert "letters A-Z" in errors["post_code"][0]
