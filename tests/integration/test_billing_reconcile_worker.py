"""The reconcile beat task on a real Celery worker (Redis broker): an order paid at Stripe whose
webhook never came is fulfilled, one whose checkout expired times out, a young one is left alone."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from billing import checkout, services, stripe_client
from billing.choices import ItemType, OrderStatus, OrderType
from billing.models import Fulfilment, Order
from billing.services import Item
from billing.tasks import reconcile_orders_task
from residents.models import Resident
from tests.billing.conftest import billing_information
from tests.billing.stripe_helpers import StubEvents, StubSessions
from tests.factories import make_apartment

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_until(predicate, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_reconcile_on_a_worker_fulfils_a_paid_order_and_times_out_an_expired_one(
    world, settings, monkeypatch, celery_worker_real
):
    stub = StubSessions()  # the worker runs in this process: it sees the same Stripe
    monkeypatch.setattr(stripe_client, "sessions", lambda: stub)
    monkeypatch.setattr(stripe_client, "events", StubEvents)
    settings.ROOT_URLCONF = "tests.billing.urls_webhook"
    billing_information(world.installer_a)
    residents = [world.resident_a]
    for number in ("401", "402"):
        apt = make_apartment(world.building_a, number, resident={"first_name": "W", "last_name": number})
        residents.append(apt.residents.get(family_master__isnull=True))
    orders = []
    for resident in residents:
        order = services.order_create(
            actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[Item(ItemType.APP, resident.pk)]
        )
        checkout.start_checkout(actor=world.installer_a, order=order)
        order.refresh_from_db()
        orders.append(order)
    paid, expired, young = orders
    stub.pay(paid.stripe_session_id)
    stub.time_out(expired.stripe_session_id)
    stub.pay(young.stripe_session_id)
    Order.objects.filter(pk__in=[paid.pk, expired.pk]).update(created=timezone.now() - timedelta(minutes=5))

    reconcile_orders_task.delay()
    done = Order.objects.filter(
        pk__in=[paid.pk, expired.pk], status__in=[OrderStatus.SUCCEED, OrderStatus.TIME_OUT]
    )
    assert wait_until(lambda: done.count() == 2), "the worker did not reconcile the orders"
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.SUCCEED
    assert Order.objects.get(pk=expired.pk).status == OrderStatus.TIME_OUT
    assert Fulfilment.objects.filter(order=paid).count() == 1
    assert Resident.objects.get(pk=residents[0].pk).activated
    assert Order.objects.get(pk=young.pk).status == OrderStatus.PROCESSING
