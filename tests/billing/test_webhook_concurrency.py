"""The same payment delivered a thousand times, two hundred at once, from threads against a live
server on PostgreSQL: one Fulfilment, each account extended once (one audit entry each)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.contenttypes.models import ContentType

from billing import checkout, services
from billing.choices import ItemType, OrderStatus, OrderType
from billing.models import Fulfilment, Order, StripeEvent
from billing.services import Item
from residents.models import Resident
from smartplus.models import AuditAction, AuditLog
from tests.billing.conftest import WEBHOOK, billing_information
from tests.billing.liveserver import bounded_live_server
from tests.billing.stripe_helpers import event, sign
from tests.factories import make_apartment

pytestmark = pytest.mark.django_db(transaction=True)


def _post(url: str, payload: str, header: str) -> tuple[int, str]:
    """One delivery, retried as Stripe retries a failed one (5xx, connection trouble)."""
    for _attempt in range(30):
        request = urllib.request.Request(
            url,
            data=payload.encode(),
            headers={"Stripe-Signature": header, "Content-Type": "application/json", "Connection": "close"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return exc.code, exc.read().decode()
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    return 0, "gave up"


@pytest.fixture
def paid(world, stub, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    billing_information(world.installer_a)
    residents = [world.resident_a]
    for n in range(4):
        apt = make_apartment(world.building_a, f"3{n:02d}", resident={"first_name": "C", "last_name": str(n)})
        residents.append(apt.residents.get(family_master__isnull=True))
    order = services.order_create(
        actor=world.installer_a,
        order_type=OrderType.ACTIVATION,
        items=[Item(ItemType.APP, r.pk) for r in residents],
    )
    checkout.start_checkout(actor=world.installer_a, order=order)
    order.refresh_from_db()
    return order, stub.pay(order.stripe_session_id), residents


def _updates(residents) -> Counter:
    entries = AuditLog.objects.filter(
        action=AuditAction.UPDATE,
        object_type=ContentType.objects.get_for_model(Resident),
        object_id__in=[str(r.pk) for r in residents],
    ).values_list("object_id", flat=True)
    return Counter(entries)


def test_a_thousand_deliveries_of_one_event_two_hundred_at_once(paid):
    order, session, residents = paid
    before = _updates(residents)
    payload = event("checkout.session.completed", session, "evt_storm")
    header = sign(payload)
    with bounded_live_server() as base, ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(lambda _n: _post(base + WEBHOOK, payload, header), range(1000)))
    statuses = Counter(status for status, _body in results)
    bodies = Counter(body for _status, body in results)
    assert statuses == {200: 1000}, statuses
    assert bodies == {"fulfilled": 1, "Already processed.": 999}, bodies
    assert Fulfilment.objects.filter(order=order).count() == 1 and StripeEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUCCEED
    assert Resident.objects.filter(pk__in=[r.pk for r in residents], activated=True).count() == 5
    assert _updates(residents) - before == {str(r.pk): 1 for r in residents}  # extended once each


def test_many_events_of_one_payment_at_once_fulfil_it_once(paid):
    """Different event ids (completed, then async_payment_succeeded, redelivered as new events):
    the order's row lock and its one Fulfilment row, not the event table, decide."""
    _order, session, residents = paid
    before = _updates(residents)
    deliveries = []
    for n in range(100):
        kind = "checkout.session.completed" if n % 2 else "checkout.session.async_payment_succeeded"
        payload = event(kind, session, f"evt_many_{n}")
        deliveries.append((payload, sign(payload)))
    with bounded_live_server() as base, ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(lambda d: _post(base + WEBHOOK, *d), deliveries))
    bodies = Counter(body for _status, body in results)
    assert Counter(status for status, _body in results) == {200: 100}
    assert bodies == {"fulfilled": 1, "already fulfilled": 99}, bodies
    assert Fulfilment.objects.count() == 1 and StripeEvent.objects.count() == 100
    assert _updates(residents) - before == {str(r.pk): 1 for r in residents}  # extended once each
