"""The portal's own pages (issue 19): sign-in, password reset and 2FA in the portal's layout, error
pages with a way back, the favicon, and the Home Automation link of the sidebar."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core import mail
from django.test import Client, RequestFactory, override_settings
from django.urls import path, reverse
from django.views import defaults

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    return response.content.decode()


def assert_portal_layout(html: str) -> None:
    assert 'href="/static/css/portal.css"' in html
    assert 'href="/static/favicon.svg"' in html
    assert "SmartPlus" in html


def assert_auth_layout(html: str) -> None:
    assert_portal_layout(html)
    assert 'data-testid="auth-brand"' in html


# --- sign-in, password reset, two-factor authentication ---


def test_login_page_is_the_portals_without_sign_up(client):
    response = client.get(reverse("account_login"))

    html = _body(response)
    assert response.status_code == 200
    assert_auth_layout(html)
    assert reverse("account_signup") not in html
    assert not re.search(r"sign\s*up", html, re.IGNORECASE)
    assert 'name="login"' in html and 'name="password"' in html
    assert f'href="{reverse("account_reset_password")}"' in html  # Forgot your password?
    assert 'class="btn btn-primary" type="submit">Sign In' in html


def test_every_password_reset_step_is_in_the_portals_layout_with_a_way_back(world):
    client = Client()
    start = client.get(reverse("account_reset_password"))
    assert_auth_layout(_body(start))
    assert f'href="{reverse("account_login")}"' in _body(start)  # Back to Log in

    done = client.post(reverse("account_reset_password"), {"email": world.installer_a.email}, follow=True)
    assert_auth_layout(_body(done))
    assert "Back to Log in" in _body(done)

    url = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form_page = client.get(url, follow=True)
    html = _body(form_page)
    assert_auth_layout(html)
    assert 'name="password1"' in html and "Back to Log in" in html
    changed = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "Fresh-Pass-2026", "password2": "Fresh-Pass-2026"},
        follow=True,
    )
    assert changed.status_code == 200
    assert_auth_layout(_body(changed))
    assert "Back to Log in" in _body(changed)


def test_two_factor_step_is_in_the_portals_layout(world):
    secret = generate_totp_secret()
    TOTP.activate(world.installer_a, secret)
    client = Client()
    step = client.post(reverse("account_login"), {"login": "inst_a", "password": PASSWORD}, follow=True)

    html = _body(step)
    assert step.redirect_chain[-1][0] == reverse("mfa_authenticate")
    assert_auth_layout(html)
    assert 'name="code"' in html and "Back to Log in" in html
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    signed_in = client.post(reverse("mfa_authenticate"), {"code": code})
    assert signed_in.status_code == 302


# --- error pages ---


def _raise_403(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


def _raise_500(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("boom/403/", _raise_403),
    path("boom/500/", _raise_500),
]


@pytest.fixture
def error_urls(settings):
    from smartplus import urls

    settings.ROOT_URLCONF = type("urlconf", (), {"urlpatterns": urlpatterns + urls.urlpatterns})


def test_404_in_the_portal_layout_for_a_signed_in_user_with_the_sidebar(world, client, error_urls):
    client.force_login(world.installer_a)
    response = client.get("/no-such-page/")

    html = _body(response)
    assert response.status_code == 404
    assert_portal_layout(html)
    assert 'data-testid="sidebar"' in html and 'data-testid="account-menu"' in html
    assert 'data-testid="not-found"' in html
    assert 'href="/" data-testid="error-back">Back to the portal' in html


def test_404_and_403_for_a_visitor_in_the_sign_in_card_with_a_way_back(client, error_urls):
    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert_auth_layout(_body(not_found))
    assert 'href="/" data-testid="error-back"' in _body(not_found)

    denied = client.get("/boom/403/")
    assert denied.status_code == 403
    assert_auth_layout(_body(denied))
    assert 'data-testid="access-denied"' in _body(denied)
    assert 'href="/" data-testid="error-back"' in _body(denied)


def test_403_of_a_signed_in_user_has_the_portal_layout(world, error_urls):
    client = Client()
    client.force_login(world.pm_a)
    denied = client.get(reverse("firmware:upgrade_add"))  # a property manager schedules no upgrade

    html = _body(denied)
    assert denied.status_code == 403
    assert 'data-testid="access-denied"' in html and 'data-testid="sidebar"' in html
    assert "Back to the portal" in html


def test_csrf_failure_is_the_portals_page(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.installer_a)
    response = client.post(reverse("accounts:time_zone"), {"time_zone": "UTC"})

    html = _body(response)
    assert response.status_code == 403
    assert 'data-testid="csrf-failure"' in html and 'data-testid="sidebar"' in html
    assert "Back to the portal" in html


def test_500_renders_without_a_request_or_the_database(django_db_blocker):
    request = RequestFactory().get("/anything/")
    with django_db_blocker.block():  # any query would raise
        response = defaults.server_error(request)

    html = _body(response)
    assert response.status_code == 500
    assert_auth_layout(html)
    assert 'data-testid="server-error"' in html and 'href="/" data-testid="error-back"' in html


@override_settings(DEBUG=False)
def test_an_exception_in_a_view_answers_the_portals_500(world, error_urls):
    client = Client(raise_request_exception=False)
    client.force_login(world.installer_a)
    response = client.get("/boom/500/")
    assert response.status_code == 500
    assert 'data-testid="server-error"' in _body(response)


# --- favicon ---


def test_favicon_is_served_and_linked(world, client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/x-icon"
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=86400" in icon["Cache-Control"]
    client.force_login(world.installer_a)
    dashboard = client.get(reverse("communities:dashboard"))
    assert 'rel="icon" href="/static/favicon.svg"' in _body(dashboard)


# --- the sidebar's Home Automation ---


def test_home_automation_shows_only_when_one_of_the_users_communities_has_it(world, client, settings):
    settings.SMARTPLUS_HOME_AUTOMATION_URL = "https://home.example.test/"
    client.force_login(world.installer_a)
    link = 'href="https://home.example.test/" target="_blank"'

    assert link not in _body(client.get(reverse("communities:dashboard")))

    world.community_b.home_automation = True  # another installer's community
    world.community_b.save(update_fields=["home_automation"])
    assert link not in _body(client.get(reverse("communities:dashboard")))

    world.community_a2.home_automation = True
    world.community_a2.save(update_fields=["home_automation"])
    assert link in _body(client.get(reverse("communities:dashboard")))
    pm = Client()
    pm.force_login(world.pm_a)  # manages Alpha Gardens only, which has no Home Automation
    assert link not in _body(pm.get(reverse("communities:dashboard")))
