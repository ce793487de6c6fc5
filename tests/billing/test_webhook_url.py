"""The webhook as the portal mounts it: Stripe posts without a session or CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import StripeEvent
from tests.billing.stripe_helpers import WEBHOOK_SECRET, event, sign

pytestmark = pytest.mark.django_db


def test_the_mounted_webhook_takes_a_signed_event_without_csrf_and_refuses_an_unsigned_one(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    client = Client(enforce_csrf_checks=True)
    url = reverse("billing:stripe_webhook")
    assert url == "/billing/stripe/webhook/"  # the path docs/billing.md tells operators to register
    payload = event("customer.created", {"id": "cus_1"}, event_id="evt_url_1")
    signed = client.post(url, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload))
    assert signed.status_code == 200
    assert StripeEvent.objects.filter(event_id="evt_url_1").exists()
    forged = client.post(
        url,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, secret="whsec_other"),
    )
    assert forged.status_code == 400
    assert StripeEvent.objects.count() == 1
