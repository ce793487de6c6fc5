"""End to end with the fake Stripe server (billing/fakestripe): the session made through the real
SDK, the hosted page paid, the signed webhook delivered to a live server, deliveries duplicated,
reordered and dropped, and reconcile making up for a lost one."""

from __future__ import annotations

import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone

from billing import checkout, services, stripe_client
from billing.choices import ItemType, OrderStatus, OrderType
from billing.models import Fulfilment, Order, StripeEvent
from billing.services import Item
from billing.tasks import reconcile_orders_task
from residents.models import Resident
from tests.billing.conftest import WEBHOOK, billing_information
from tests.billing.liveserver import bounded_live_server
from tests.billing.stripe_helpers import WEBHOOK_SECRET
from tests.factories import make_apartment

FakeStripe = pytest.importorskip("billing.fakestripe").FakeStripe  # merged from its own branch
pytestmark = pytest.mark.django_db(transaction=True)
API_KEY = "sk_test_e2e_fake"


@pytest.fixture
def portal(settings):
    settings.ROOT_URLCONF = "tests.billing.urls_webhook"
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    with bounded_live_server() as url:
        settings.SMARTPLUS_BASE_URL = url
        yield url


@pytest.fixture
def fake(portal, settings):
    with FakeStripe(
        api_key=API_KEY, webhook_url=portal + WEBHOOK, webhook_secret=WEBHOOK_SECRET, async_delay=0.5
    ) as server:
        settings.STRIPE_API_BASE = server.url
        settings.STRIPE_SECRET_KEY = API_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        yield server


@pytest.fixture
def shop(world):
    billing_information(world.installer_a)
    residents = [world.resident_a]
    for number in ("501", "502", "503"):
        apt = make_apartment(world.building_a, number, resident={"first_name": "E", "last_name": number})
        residents.append(apt.residents.get(family_master__isnull=True))
    world.masters = residents
    return world


def checkout_order(world, residents) -> Order:
    order = services.order_create(
        actor=world.installer_a,
        order_type=OrderType.ACTIVATION,
        items=[Item(ItemType.APP, r.pk) for r in residents],
    )
    checkout.start_checkout(actor=world.installer_a, order=order)
    order.refresh_from_db()
    return order


def press(url: str, action: str) -> tuple[int, str]:
    """Submit the hosted page's form; the redirect back to the portal is followed."""
    path = urllib.parse.urlsplit(url).path
    data = urllib.parse.urlencode({"action": action}).encode()
    with urllib.request.urlopen(urllib.parse.urljoin(url, path), data=data, timeout=10) as response:
        return response.status, response.geturl()


def status_of(order: Order) -> str:
    return Order.objects.get(pk=order.pk).status


def test_paid_on_the_hosted_page_fulfilled_by_the_webhook(shop, fake, portal):
    order = checkout_order(shop, shop.masters[:2])
    session = fake.session(order.stripe_session_id)
    assert session["amount_total"] == order.total and session["currency"] == "usd"
    assert session["metadata"] == {"order": order.number} and session["client_reference_id"] == order.number
    lines = stripe_client.sessions().line_items.list(order.stripe_session_id)
    assert [(li.quantity, li.amount_total) for li in lines.data] == [(1, order.total)]
    # A second click: the same page, no second session at Stripe.
    assert checkout.start_checkout(actor=shop.installer_a, order=order) == order.checkout_url
    assert len(stripe_client.sessions().list({"client_reference_id": order.number}).data) == 1

    status, back = press(order.checkout_url, "pay")
    assert status == 200 and back == f"{portal}/billing/orders/{order.pk}/return/?session_id={session['id']}"
    fake.wait_for_deliveries(1, timeout=10, ok=True, type="checkout.session.completed")
    assert status_of(order) == OrderStatus.SUCCEED
    assert Resident.objects.filter(pk__in=[r.pk for r in shop.masters[:2]], activated=True).count() == 2
    assert not Resident.objects.get(pk=shop.masters[2].pk).activated


def test_duplicated_concurrent_and_reordered_deliveries_fulfil_once(shop, fake):
    fake.set_switches(duplicate=5, concurrent=True, reorder=True)
    order = checkout_order(shop, shop.masters[:1])
    fake.pay(order.stripe_session_id)
    fake.wait_for_deliveries(5, timeout=10, ok=True)
    fake.wait_idle(timeout=10)
    assert status_of(order) == OrderStatus.SUCCEED and Fulfilment.objects.count() == 1
    assert StripeEvent.objects.count() == 1  # five copies of one event


def test_a_failed_delayed_payment_reordered_is_failed(shop, fake):
    fake.set_switches(reorder=True)  # async_payment_failed arrives before completed
    order = checkout_order(shop, shop.masters[:1])
    fake.fail(order.stripe_session_id)
    fake.wait_for_deliveries(2, timeout=10, ok=True)
    assert status_of(order) == OrderStatus.FAILED and not Fulfilment.objects.exists()


def test_a_delayed_payment_is_system_processing_then_succeed(shop, fake):
    order = checkout_order(shop, shop.masters[:1])
    fake.pay_later(order.stripe_session_id, delay=60)  # settled by hand below
    fake.wait_for_deliveries(1, timeout=10, ok=True, type="checkout.session.completed")
    assert status_of(order) == OrderStatus.SYSTEM_PROCESSING
    fake.store.settle(order.stripe_session_id)
    fake.wait_for_deliveries(1, timeout=10, ok=True, type="checkout.session.async_payment_succeeded")
    assert status_of(order) == OrderStatus.SUCCEED


def test_cancel_and_expiry(shop, fake):
    cancelled = checkout_order(shop, shop.masters[:1])
    press(cancelled.checkout_url, "cancel")  # the page only sends the payer back; the portal closes it
    checkout.order_cancel(actor=shop.installer_a, order=cancelled)
    assert fake.session(cancelled.stripe_session_id)["status"] == "expired"
    expired = checkout_order(shop, shop.masters[1:2])
    fake.expire(expired.stripe_session_id)
    fake.wait_for_deliveries(2, timeout=10, ok=True, type="checkout.session.expired")
    assert status_of(cancelled) == OrderStatus.CANCEL and status_of(expired) == OrderStatus.TIME_OUT
    with pytest.raises(stripe.InvalidRequestError):  # nobody can pay them any more
        stripe_client.sessions().expire(expired.stripe_session_id)


def test_reconcile_recovers_dropped_webhooks(shop, fake):
    fake.set_switches(drop=2)
    paid = checkout_order(shop, shop.masters[:1])
    fake.pay(paid.stripe_session_id)
    failed = checkout_order(shop, shop.masters[1:2])
    fake.set_switches(drop=2)
    fake.fail(failed.stripe_session_id)  # both of its events lost
    fake.wait_idle(timeout=10)
    assert status_of(paid) == OrderStatus.PROCESSING and status_of(failed) == OrderStatus.PROCESSING
    Order.objects.update(created=timezone.now() - timedelta(minutes=5))
    reconcile_orders_task.delay()
    assert status_of(paid) == OrderStatus.SUCCEED
    assert status_of(failed) == OrderStatus.FAILED  # told by the undelivered async_payment_failed
    assert Fulfilment.objects.filter(order=paid).count() == 1


def test_two_hundred_concurrent_copies_from_the_fake_fulfil_once(shop, fake):
    """The fake sends each event 200 times at the same moment, from its own threads; the portal
    re-fetches the session from the fake with the real SDK."""
    fake.set_switches(duplicate=200, concurrent=True)
    order = checkout_order(shop, shop.masters)
    fake.pay(order.stripe_session_id)
    fake.wait_for_deliveries(200, timeout=60, ok=True)
    assert status_of(order) == OrderStatus.SUCCEED
    assert Fulfilment.objects.count() == 1 and StripeEvent.objects.count() == 1
    assert Resident.objects.filter(pk__in=[r.pk for r in shop.masters], activated=True).count() == 4
