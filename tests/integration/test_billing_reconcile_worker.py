"""The reconcile beat task on a real Celery worker (Redis broker) against the fake Stripe server
through the real SDK, with every webhook lost: an order paid at Stripe is fulfilled, one whose
delayed payment failed is Failed (told by the undelivered event), one whose checkout expired
times out; a young order is not re-fetched, but its undelivered event is replayed."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from billing import checkout, services
from billing.choices import ItemType, OrderStatus, OrderType
from billing.fakestripe import FakeStripe
from billing.models import Fulfilment, Order
from billing.services import Item
from billing.tasks import reconcile_orders_task
from residents.models import Resident
from tests.billing.conftest import billing_information
from tests.factories import make_apartment
from tests.workers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once closed: every delivery fails


def test_reconcile_on_a_worker_brings_every_waiting_order_up_to_date(world, settings, celery_worker_real):
    settings.ROOT_URLCONF = "tests.billing.urls_webhook"
    billing_information(world.installer_a)
    residents = [world.resident_a]
    for number in ("401", "402", "403"):
        apt = make_apartment(world.building_a, number, resident={"first_name": "W", "last_name": number})
        residents.append(apt.residents.get(family_master__isnull=True))
    lost = f"http://127.0.0.1:{_closed_port()}/billing/stripe/webhook/"
    with FakeStripe(api_key="sk_test_worker", webhook_url=lost, webhook_secret="whsec_w", retries=0) as fake:
        settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = fake.url, "sk_test_worker"
        orders = []
        for resident in residents:
            order = services.order_create(
                actor=world.installer_a,
                order_type=OrderType.ACTIVATION,
                items=[Item(ItemType.APP, resident.pk)],
            )
            checkout.start_checkout(actor=world.installer_a, order=order)
            order.refresh_from_db()
            orders.append(order)
        paid, failed, expired, young = orders  # young: created now, its event lost too
        fake.pay(paid.stripe_session_id)
        fake.fail(failed.stripe_session_id)
        fake.expire(expired.stripe_session_id)
        fake.pay(young.stripe_session_id)
        fake.wait_idle(timeout=10)
        assert not any(d["ok"] for d in fake.deliveries)
        old = [paid.pk, failed.pk, expired.pk]
        Order.objects.filter(pk__in=old).update(created=timezone.now() - timedelta(minutes=5))

        reconcile_orders_task.delay()
        settled = Order.objects.exclude(status=OrderStatus.PROCESSING)
        assert wait_until(lambda: settled.count() == 4), "the worker did not reconcile the orders"
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.SUCCEED
    assert Order.objects.get(pk=failed.pk).status == OrderStatus.FAILED
    assert Order.objects.get(pk=expired.pk).status == OrderStatus.TIME_OUT
    assert Order.objects.get(pk=young.pk).status == OrderStatus.SUCCEED  # by its replayed event
    assert Fulfilment.objects.filter(order=paid).count() == 1 and Fulfilment.objects.count() == 2
    assert Resident.objects.get(pk=residents[0].pk).activated
    assert not Resident.objects.get(pk=residents[1].pk).activated
