"""The ways in: the admin signs in through the portal's login (two-factor, rate limits), and the
login's limits count failures per account and per client address without telling which logins
exist."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/?next=/admin/"


def _totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- The admin's login is the portal's ---


@pytest.mark.parametrize("with_totp", [True, False])
def test_admin_login_form_takes_no_password(world, with_totp):
    """Today's stock admin form logged a TOTP-protected superuser in with the password alone."""
    if with_totp:
        _totp(world.superuser)
    client = Client()

    response = client.post(ADMIN_LOGIN, {"username": "root", "password": PASSWORD, "next": "/admin/"})

    assert not _signed_in(client)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=/admin/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get(reverse("communities:dashboard"))["Location"].startswith(reverse("account_login"))


def test_admin_is_reached_through_the_portal_login_and_its_totp_code(world):
    secret = _totp(world.superuser)
    client = Client()

    to_admin_login = client.get("/admin/")
    to_portal_login = client.get(to_admin_login["Location"])
    assert to_portal_login["Location"] == f"{reverse('account_login')}?next=/admin/"
    password = client.post(to_portal_login["Location"], {"login": "root", "password": PASSWORD})
    assert password["Location"] == reverse("mfa_authenticate")
    assert not _signed_in(client)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")  # not with the password alone

    code = client.post(reverse("mfa_authenticate"), {"code": _code(secret)})

    assert code.status_code == 302 and code["Location"] == "/admin/"
    admin_index = client.get("/admin/")
    assert admin_index.status_code == 200
    assert "SmartPlus super manager" in admin_index.content.decode()


def test_failed_logins_on_the_admins_way_in_count_toward_the_limit(world):
    login_url = Client().get(ADMIN_LOGIN)["Location"]
    for _ in range(10):
        failed = Client().post(login_url, {"login": "root", "password": "wrong-password-1"})
        assert failed.status_code == 200
    client = Client()

    blocked = client.post(login_url, {"login": "root", "password": PASSWORD})

    assert "Too many failed login attempts" in blocked.content.decode()
    assert not _signed_in(client)


def test_admin_login_of_a_signed_in_user(world):
    root = Client()
    root.force_login(world.superuser)
    assert root.get(ADMIN_LOGIN)["Location"] == "/admin/"
    installer = Client()
    installer.force_login(world.installer_a)
    # No admin rights: refused here, rather than bounced between the two logins.
    assert installer.get(ADMIN_LOGIN).status_code == 403


def test_admin_logout_is_the_portals(world):
    client = Client()
    client.force_login(world.superuser)

    response = client.post("/admin/logout/")

    assert response.status_code == 307 and response["Location"] == reverse("account_logout")
    assert client.post(response["Location"]).status_code == 302
    assert not _signed_in(client)
