"""The super manager's price lists and coupons in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Coupon, PriceList

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.superuser)
    return client


def coupon_form(**fields) -> dict:
    now = timezone.now()
    return {
        "code": "Spring2027Sale01",
        "kind": "amount",
        "amount_off": "1500",
        "percent_off": "0",
        "scope": "all",
        "valid_from_0": now.strftime("%Y-%m-%d"),
        "valid_from_1": "00:00:00",
        "valid_until_0": (now + timedelta(days=30)).strftime("%Y-%m-%d"),
        "valid_until_1": "00:00:00",
    } | fields


def test_an_amount_coupon_starts_with_its_whole_amount_to_spend(admin_client):
    response = admin_client.post("/admin/billing/coupon/add/", coupon_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    coupon = Coupon.objects.get(code="Spring2027Sale01")
    assert (coupon.balance, coupon.installer) == (1500, None)


def test_a_coupon_without_its_value_is_refused_at_the_field(admin_client):
    response = admin_client.post("/admin/billing/coupon/add/", coupon_form(kind="percent", amount_off="0"))
    assert response.status_code == 200
    assert "A percent coupon needs a percent" in response.content.decode()
    assert not Coupon.objects.exists()


def test_the_default_price_list_is_there_and_cannot_be_deleted(admin_client):
    default = PriceList.objects.get(is_default=True)
    assert admin_client.get("/admin/billing/pricelist/").status_code == 200
    assert (
        admin_client.post(f"/admin/billing/pricelist/{default.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert PriceList.objects.filter(pk=default.pk).exists()


def test_distributor_overrides_are_one_per_distributor(admin_client, world):
    form = {
        "distributor": world.distributor_a.pk,
        "activation_fee": "900",
        "activation_months": "12",
        "monthly_fee": "80",
        "pm_app_monthly_fee": "80",
        "additional_app_monthly_fee": "40",
        "premium_monthly_fee": "1500",
    }
    assert admin_client.post("/admin/billing/pricelist/add/", form).status_code == 302
    again = admin_client.post("/admin/billing/pricelist/add/", form)
    assert again.status_code == 200 and "already exists" in again.content.decode()
    assert PriceList.objects.filter(distributor=world.distributor_a).count() == 1
