"""Fixtures for paying orders: Stripe's Checkout Session service replaced at the SDK boundary
(tests/billing/stripe_helpers.py), the webhook URLconf, complete Billing Information."""

from __future__ import annotations

import pytest

from accounts.models import BillingInformation
from billing import stripe_client
from tests.billing.stripe_helpers import WEBHOOK_SECRET, StubEvents, StubSessions

WEBHOOK = "/billing/stripe/webhook/"


@pytest.fixture
def stub(monkeypatch, settings):
    sessions = StubSessions()
    monkeypatch.setattr(stripe_client, "sessions", lambda: sessions)
    sessions.events = StubEvents()
    monkeypatch.setattr(stripe_client, "events", lambda: sessions.events)
    settings.STRIPE_SECRET_KEY = "sk_test_stub"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.SMARTPLUS_BASE_URL = "https://portal.example.test"
    settings.ROOT_URLCONF = "tests.billing.urls_webhook"
    return sessions


def billing_information(installer) -> BillingInformation:
    return BillingInformation.objects.create(
        installer=installer,
        company="Alpha Installations",
        attn="Ann",
        street="1 Main St",
        city="Springfield",
        country="US",
        tel="+12025550100",
        email="billing@alpha.example.test",
    )


def coupon(world, code="SAVE5", **fields):
    """A $5 amount coupon, redeemed by installer A unless `installer=` says otherwise."""
    from datetime import timedelta

    from django.utils import timezone

    from billing.choices import CouponKind
    from billing.models import Coupon

    now = timezone.now()
    values = {
        "kind": CouponKind.AMOUNT,
        "amount_off": 500,
        "balance": 500,
        "valid_from": now - timedelta(days=1),
        "valid_until": now + timedelta(days=30),
        "installer": world.installer_a,
    } | fields
    return Coupon.objects.create(code=code, **values)


@pytest.fixture
def billed(world):
    billing_information(world.installer_a)
    return world
