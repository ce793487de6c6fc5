"""The app reads its community's Premium controls: GET /api/app/v1/community-settings."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse

from communities.choices import FeaturePlan
from pmportal.services import premium_control_set
from residents.models import Resident

from .support import set_plan

pytestmark = pytest.mark.django_db
URL = reverse("pmportal:app_community_settings")


def get(password="app-secret"):
    token = base64.b64encode(f"lily@example.test:{password}".encode()).decode()
    return Client().get(URL, HTTP_AUTHORIZATION=f"Basic {token}")


@pytest.fixture
def lily(world):
    Resident.objects.filter(pk=world.resident_a.pk).update(
        email="lily@example.test", app_password=make_password("app-secret")
    )
    return world


def test_the_app_reads_the_switches_of_its_community(lily):
    set_plan(lily.community_a)
    premium_control_set(
        actor=lily.pm_a, community=lily.community_a, control="family_account_creation", enabled=False
    )
    body = get().json()
    assert body["community"] == "Alpha Gardens" and body["premium_in_force"] is True
    assert body["family_account_creation"] is False and body["public_camera_viewing"] is True


def test_without_premium_in_force_no_public_camera_viewing(lily):
    set_plan(lily.community_a, FeaturePlan.PREMIUM, days=-1)
    body = get().json()
    assert body["premium_in_force"] is False and body["public_camera_viewing"] is False
    set_plan(lily.community_a, FeaturePlan.BASIC)
    assert get().json()["public_camera_viewing"] is False


def test_a_wrong_password_is_401(lily):
    assert get("nope").status_code == 401
    assert Client().get(URL).status_code == 401
