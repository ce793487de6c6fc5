"""How the UI language is chosen (issue 19, acceptance 2): the browser's Accept-Language for a new
session, the language menu (saved on the user and in the cookie), the saved language over both,
and the saved language surviving a logout. Persian and Hebrew pages are right to left."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

COOKIE = settings.LANGUAGE_COOKIE_NAME


def html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.content.decode()).group(0)


def sign_in(client: Client, username: str):
    return client.post(reverse("account_login"), {"login": username, "password": PASSWORD})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "lang", "direction"),
    [
        ("he-IL,he;q=0.9", "he", "rtl"),
        ("fa-IR,fa;q=0.9,en;q=0.5", "fa", "rtl"),
        ("en-US,en;q=0.9", "en", "ltr"),
    ],
)
def test_a_new_session_follows_the_browsers_language(accept, lang, direction):
    response = Client(HTTP_ACCEPT_LANGUAGE=accept).get(reverse("account_login"))
    assert response.status_code == 200
    assert html_tag(response) == f'<html lang="{lang}" dir="{direction}">'
    assert response["Content-Language"] == lang
    body = response.content.decode()
    # Right to left: Bootstrap's mirrored stylesheet instead of the usual one.
    assert ("bootstrap.rtl.min.css" in body) == (direction == "rtl")
    assert ("bootstrap.min.css" in body) == (direction == "ltr")


@pytest.mark.django_db
def test_the_login_page_offers_every_language_in_its_own_name():
    body = Client().get(reverse("account_login")).content.decode()
    menu = re.search(r'data-testid="language-menu".*?</form>', body, re.S).group(0)
    for code, name in settings.LANGUAGES:
        assert f'value="{code}"' in menu
        assert name in menu
    assert "فارسی" in menu and "עברית" in menu


@pytest.mark.django_db
def test_the_menu_saves_the_language_on_the_user_and_in_the_cookie(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.installer_a)
    back = reverse("communities:dashboard")
    response = client.post(reverse("accounts:ui_language"), {"language": "he", "next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert response.cookies[COOKIE].value == "he"
    world.installer_a.refresh_from_db()
    assert world.installer_a.ui_language == "he"
    page = client.get(back)
    assert html_tag(page) == '<html lang="he" dir="rtl">'


@pytest.mark.django_db
def test_the_saved_language_wins_over_the_cookie_and_the_browser(world):
    world.installer_a.ui_language = "fa"
    world.installer_a.save(update_fields=["ui_language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="he-IL,he;q=0.9")
    client.cookies[COOKIE] = "fr"
    client.force_login(world.installer_a)
    response = client.get(reverse("communities:dashboard"))
    assert html_tag(response) == '<html lang="fa" dir="rtl">'
    # The cookie catches up with the saved choice.
    assert response.cookies[COOKIE].value == "fa"


@pytest.mark.django_db
def test_the_saved_language_survives_logout_and_comes_back_with_the_next_login(world):
    world.installer_a.ui_language = "he"
    world.installer_a.save(update_fields=["ui_language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")  # a fresh browser in English
    response = sign_in(client, "inst_a")
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "he"  # the login itself sets the cookie
    client.post(reverse("account_logout"))
    login_page = client.get(reverse("account_login"))
    assert html_tag(login_page) == '<html lang="he" dir="rtl">'
    sign_in(client, "inst_a")
    assert html_tag(client.get(reverse("communities:dashboard"))) == '<html lang="he" dir="rtl">'


@pytest.mark.django_db
def test_an_anonymous_visitor_chooses_by_cookie_only():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        reverse("accounts:ui_language"), {"language": "fa", "next": reverse("account_login")}
    )
    assert response["Location"] == reverse("account_login")
    assert response.cookies[COOKIE].value == "fa"
    assert html_tag(client.get(reverse("account_login"))) == '<html lang="fa" dir="rtl">'


@pytest.mark.django_db
def test_following_the_browser_again_clears_the_choice(world):
    world.installer_a.ui_language = "fa"
    world.installer_a.save(update_fields=["ui_language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="he-IL,he;q=0.9")
    client.force_login(world.installer_a)
    response = client.post(reverse("accounts:ui_language"), {"language": ""})
    world.installer_a.refresh_from_db()
    assert world.installer_a.ui_language == ""
    assert response.cookies[COOKIE].value == ""  # deleted
    assert html_tag(client.get(reverse("communities:dashboard"))) == '<html lang="he" dir="rtl">'


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_the_menu_never_redirects_off_the_site(world, target):
    client = Client()
    client.force_login(world.installer_a)
    response = client.post(reverse("accounts:ui_language"), {"language": "fa", "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_an_unknown_language_is_refused_and_nothing_is_saved(world):
    client = Client()
    client.force_login(world.installer_a)
    response = client.post(reverse("accounts:ui_language"), {"language": "xx"})
    assert response.status_code == 400
    assert COOKIE not in response.cookies
    world.installer_a.refresh_from_db()
    assert world.installer_a.ui_language == ""


@pytest.mark.django_db
def test_macs_read_left_to_right_inside_a_right_to_left_list(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="fa")
    client.force_login(world.installer_a)
    body = client.get(reverse("devices:community_devices", args=[world.community_a.pk])).content.decode()
    mac = world.device_a.mac_address.mac
    cell = re.search(r'<td class="([^"]*)"[^>]*>\s*' + re.escape(mac), body)
    assert cell is not None, "the MAC's cell"
    assert "ltr" in cell.group(1).split()
