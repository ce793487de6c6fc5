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


# --- Login limits: per account, per client address, and no enumeration ---


def _login(login: str, password: str = PASSWORD, **headers):
    client = Client(**headers)
    response = client.post(reverse("account_login"), {"login": login, "password": password})
    return response, _signed_in(client)


def _refused(response) -> bool:
    return "Too many failed login attempts" in response.content.decode()


@pytest.mark.parametrize(
    ("fail_with", "then_with"),
    [("username", "email"), ("email", "username"), ("username", "USERNAME")],
)
def test_account_limit_counts_the_account_whatever_login_names_it(world, fail_with, then_with):
    user = world.installer_a
    names = {"username": user.username, "email": user.email, "USERNAME": user.username.upper()}
    for _ in range(10):
        failed, _signed = _login(names[fail_with], "wrong-password-1")
        assert failed.status_code == 200 and not _refused(failed)

    blocked, signed_in = _login(names[then_with])  # the right password, by the other name

    assert _refused(blocked) and not signed_in
    assert _login(world.installer_b.email)[1]  # another account is not affected


def test_unknown_logins_are_limited_on_the_normalised_login(world):
    for _ in range(10):
        assert not _refused(_login("Ghost@Example.test", "wrong-password-1")[0])
    assert _refused(_login("  ghost@example.TEST ", "wrong-password-1")[0])


def test_password_reset_lifts_the_accounts_limit(world):
    import re

    from django.core import mail

    user = world.installer_a
    for _ in range(10):
        _login(user.email, "wrong-password-1")
    assert _refused(_login(user.username)[0])
    Client().post(reverse("account_reset_password"), {"email": user.email})
    url = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    client = Client()
    form_page = client.get(url, follow=True)
    action = form_page.redirect_chain[-1][0]
    new_password = {"password1": "Fresh-Pass-2026", "password2": "Fresh-Pass-2026"}
    assert client.post(action, new_password).status_code == 302

    assert _login(user.username, "Fresh-Pass-2026")[1]


def test_successful_logins_do_not_count_toward_the_address_limit_failures_do(world):
    for _ in range(31):
        assert _login(world.installer_a.username)[1]
    for n in range(30):
        assert not _refused(_login(f"ghost{n}", "wrong-password-1")[0])

    blocked, signed_in = _login(world.installer_b.username)  # right password, same address

    assert _refused(blocked) and not signed_in


def test_behind_the_proxy_each_client_address_has_its_own_limit(world, settings):
    settings.SMARTPLUS_TRUSTED_PROXIES = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for n in range(30):
        assert not _refused(_login(f"ghost{n}", "wrong-password-1", **attacker)[0])

    # What the proxy forwards when the attacker sends its own X-Forwarded-For: its address last.
    spoofed = {"HTTP_X_FORWARDED_FOR": "198.51.100.9, 203.0.113.7"}
    assert _refused(_login(world.installer_a.username, **spoofed)[0])
    assert _login(world.installer_a.username, HTTP_X_FORWARDED_FOR="198.51.100.9")[1]


def test_client_address_under_the_proxy_setting(rf, settings):
    from smartplus.http import client_address

    def address(forwarded=None, remote="10.0.0.5"):
        headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
        return client_address(rf.get("/", REMOTE_ADDR=remote, **headers))

    settings.SMARTPLUS_TRUSTED_PROXIES = 0
    assert address("203.0.113.7") == "10.0.0.5"  # no proxy trusted: the header is the client's own
    settings.SMARTPLUS_TRUSTED_PROXIES = 1
    assert address("203.0.113.7") == "203.0.113.7"
    assert address("1.2.3.4, 203.0.113.7") == "203.0.113.7"
    assert address(" 2001:db8::1 ") == "2001:db8::1"
    assert address() == "10.0.0.5"  # reached without the proxy
    assert address("not-an-address") == "10.0.0.5"
    settings.SMARTPLUS_TRUSTED_PROXIES = 2  # e.g. a CDN in front of nginx
    assert address("1.2.3.4, 203.0.113.7, 192.0.2.10") == "203.0.113.7"
    assert address("203.0.113.7") == "203.0.113.7"  # came in past the outer proxy


def test_trusted_proxies_setting_is_checked(settings):
    from smartplus.checks import trusted_proxies_check

    settings.SMARTPLUS_TRUSTED_PROXIES = 1
    assert trusted_proxies_check() == []
    settings.SMARTPLUS_TRUSTED_PROXIES = None  # production, not set
    assert [e.id for e in trusted_proxies_check()] == ["smartplus.E004"]
    settings.SMARTPLUS_TRUSTED_PROXIES = -1
    assert [e.id for e in trusted_proxies_check()] == ["smartplus.E004"]


def test_login_runs_the_password_hasher_equally_for_existing_and_unknown_logins(world, settings):
    """One request per guess must not tell which emails or usernames have an account."""
    from unittest import mock

    from django.contrib.auth.hashers import MD5PasswordHasher

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    no_password = world.installer_b
    no_password.set_unusable_password()  # a new account whose set-password link is unused
    no_password.save()
    counts = {}
    for case, login in {
        "existing email": world.installer_a.email,
        "unknown email": "nobody@example.test",
        "existing username": world.installer_a.username,
        "unknown username": "nobody",
        "account without password": no_password.email,
    }.items():
        with mock.patch.object(
            MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
        ) as encode:
            response, signed_in = _login(login, "wrong-password-1")
        assert response.status_code == 200 and not signed_in
        counts[case] = encode.call_count

    assert counts == dict.fromkeys(counts, 1)
