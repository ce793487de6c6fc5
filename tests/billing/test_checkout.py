"""Paying an order: the Checkout Session made once with the order's stored amounts, the signed
webhook re-fetching the session, fulfilment once per order extending exactly its accounts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import BillingInformation, PropertyManagerAssignment
from billing import checkout, services
from billing.choices import CouponKind, ItemType, OrderStatus, OrderType
from billing.models import Coupon, Fulfilment, Order, StripeEvent
from billing.services import Item
from billing.tasks import reconcile_orders_task
from communities.choices import FeaturePlan
from communities.models import Community
from residents.models import Resident
from smartplus.models import AuditLog
from tests.billing.conftest import WEBHOOK
from tests.billing.stripe_helpers import event, sign
from tests.factories import make_apartment

pytestmark = pytest.mark.django_db


def masters(world, count: int) -> list[Resident]:
    found = [world.resident_a]
    for n in range(count - 1):
        apt = make_apartment(world.building_a, f"2{n:02d}", resident={"first_name": "R", "last_name": str(n)})
        found.append(apt.residents.get(family_master__isnull=True))
    return found


def activation(world, residents) -> Order:
    return services.order_create(
        actor=world.installer_a,
        order_type=OrderType.ACTIVATION,
        items=[Item(ItemType.APP, r.pk) for r in residents],
    )


def deliver(client, event_type: str, session: dict, event_id: str | None = None, secret=None):
    payload = event(event_type, session, event_id)
    header = sign(payload) if secret is None else sign(payload, secret)
    return client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def age(order: Order, minutes: int = 2) -> None:
    Order.objects.filter(pk=order.pk).update(created=timezone.now() - timedelta(minutes=minutes))


# --- starting the payment ------------------------------------------------------------------------


def test_checkout_charges_the_stored_total_once(billed, stub):
    order = activation(billed, [billed.resident_a])
    url = checkout.start_checkout(actor=billed.installer_a, order=order)
    again = checkout.start_checkout(actor=billed.installer_a, order=order)  # the double click
    assert url == again and url.startswith("https://checkout.stripe.test/")
    assert [c[0] for c in stub.calls] == ["create"]
    [session] = stub.sessions.values()
    params = session["params"]
    assert params["mode"] == "payment" and params["currency"] == "usd"
    assert session["amount_total"] == order.total and params["line_items"][0]["quantity"] == 1
    assert params["client_reference_id"] == order.number == params["metadata"]["order"]
    assert params["success_url"] == (
        f"https://portal.example.test/billing/orders/{order.pk}/return/?session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert params["cancel_url"] == f"https://portal.example.test/billing/orders/{order.pk}/cancelled/"
    minutes = (params["expires_at"] - timezone.now().timestamp()) / 60
    assert 60 <= minutes <= 61
    assert stub.calls[0][1].startswith(f"smartplus-checkout-{order.number}-{order.total}-")
    order.refresh_from_db()
    assert order.stripe_session_id == session["id"] and order.checkout_url == url
    assert order.checkout_expires_at.timestamp() == params["expires_at"]


def test_paying_needs_complete_billing_information(world, stub):
    order = activation(world, [world.resident_a])
    with pytest.raises(ValidationError, match="Fill in your Billing Information"):
        checkout.start_checkout(actor=world.installer_a, order=order)
    from tests.billing.conftest import billing_information

    billing_information(world.installer_a)
    BillingInformation.objects.filter(installer=world.installer_a).update(tel="")
    with pytest.raises(ValidationError, match="Fill in your Billing Information"):
        checkout.start_checkout(actor=world.installer_a, order=order)
    assert stub.calls == []


def test_a_fully_discounted_order_skips_stripe(billed, stub):
    now = timezone.now()
    Coupon.objects.create(
        code="ALLFREE",
        kind=CouponKind.PERCENT,
        percent_off=100,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=1),
        installer=billed.installer_a,
    )
    order = activation(billed, [billed.resident_a])
    order = services.order_apply_coupon(actor=billed.installer_a, order=order, code="ALLFREE")
    assert order.total == 0
    assert checkout.start_checkout(actor=billed.installer_a, order=order) == ""
    assert stub.calls == []
    order.refresh_from_db()
    assert order.status == OrderStatus.SUCCEED and order.fulfilment.amount == 0
    resident = Resident.objects.get(pk=billed.resident_a.pk)
    assert resident.activated and resident.expires_at > now + timedelta(days=360)
    assert Coupon.objects.get(code="ALLFREE").used_up


# --- the webhook ---------------------------------------------------------------------------------


def paid_order(world, stub, residents=None, **pay):
    order = activation(world, residents or [world.resident_a])
    checkout.start_checkout(actor=world.installer_a, order=order)
    order.refresh_from_db()
    return order, stub.pay(order.stripe_session_id, **pay)


def test_a_bad_signature_or_payload_is_refused_with_nothing_changed(billed, stub, client, settings):
    order, session = paid_order(billed, stub)
    payload = event("checkout.session.completed", session)
    for header in ("", "t=1,v1=00", sign(payload, "whsec_other"), sign(payload, timestamp=1)):
        response = client.post(
            WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert response.status_code == 400
    response = client.post(
        WEBHOOK, "{not json", content_type="application/json", HTTP_STRIPE_SIGNATURE=sign("{not json")
    )
    assert response.status_code == 400
    settings.STRIPE_WEBHOOK_SECRET = ""  # unconfigured: even a "valid" empty-key signature is refused
    assert deliver(client, "checkout.session.completed", session, secret="").status_code == 400
    assert client.get(WEBHOOK).status_code == 405
    assert StripeEvent.objects.count() == 0 and Fulfilment.objects.count() == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PROCESSING
    assert not Resident.objects.get(pk=billed.resident_a.pk).activated


def test_a_completed_checkout_fulfils_the_order_once(billed, stub, client):
    order, session = paid_order(billed, stub)
    assert deliver(client, "checkout.session.completed", session, "evt_1").status_code == 200
    assert deliver(client, "checkout.session.completed", session, "evt_1").content == b"Already processed."
    response = deliver(client, "checkout.session.completed", session, "evt_2")  # another id, same payment
    assert response.content == b"already fulfilled"
    order.refresh_from_db()
    assert order.status == OrderStatus.SUCCEED and order.paid_at and order.finished_at
    assert order.stripe_payment_intent == session["payment_intent"]
    assert Fulfilment.objects.filter(order=order).count() == 1
    assert order.fulfilment.stripe_event_id == "evt_1" and order.fulfilment.amount == order.total
    resident = Resident.objects.get(pk=billed.resident_a.pk)
    assert resident.activated
    assert timezone.now() + timedelta(days=360) < resident.expires_at < timezone.now() + timedelta(days=370)
    assert sorted(StripeEvent.objects.values_list("event_id", "order_id")) == [
        ("evt_1", order.pk),
        ("evt_2", order.pk),
    ]


def test_the_payload_is_not_trusted_the_session_is_refetched(billed, stub, client):
    order = activation(billed, [billed.resident_a])
    checkout.start_checkout(actor=billed.installer_a, order=order)
    order.refresh_from_db()
    forged = dict(stub.sessions[order.stripe_session_id], status="complete", payment_status="paid")
    assert deliver(client, "checkout.session.completed", forged).status_code == 200  # signed, but stale
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING and not Fulfilment.objects.exists()
    assert ("retrieve", order.stripe_session_id) in stub.calls


def test_an_expiry_arriving_after_the_payment_never_moves_the_order_back(billed, stub, client):
    order, session = paid_order(billed, stub)
    assert deliver(client, "checkout.session.completed", session).status_code == 200
    stub.sessions[session["id"]]["status"] = "expired"  # even if Stripe said so now
    assert deliver(client, "checkout.session.expired", dict(session, status="expired")).status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUCCEED


def test_an_expired_checkout_times_the_order_out_and_releases_its_coupon(billed, stub, client):
    now = timezone.now()
    Coupon.objects.create(
        code="FIVE", amount_off=500, balance=500, valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=1), installer=billed.installer_a,
    )  # fmt: skip
    order = activation(billed, [billed.resident_a])
    services.order_apply_coupon(actor=billed.installer_a, order=order, code="FIVE")
    checkout.start_checkout(actor=billed.installer_a, order=order)
    order.refresh_from_db()
    session = stub.time_out(order.stripe_session_id)
    assert deliver(client, "checkout.session.expired", session).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.TIME_OUT and order.finished_at
    assert Coupon.objects.get(code="FIVE").reserved_by is None
    stub.sessions[session["id"]].update(status="complete", payment_status="paid")  # a late "completed"
    assert deliver(client, "checkout.session.completed", stub.sessions[session["id"]]).status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.TIME_OUT


@pytest.mark.parametrize(
    "override",
    [{"amount_total": 1}, {"currency": "eur"}],
    ids=["amount", "currency"],
)
def test_a_payment_of_another_amount_or_currency_is_flagged_not_fulfilled(billed, stub, client, override):
    order, session = paid_order(billed, stub, **override)
    assert deliver(client, "checkout.session.completed", session).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.SYSTEM_PROCESSING and "not fulfilled" in order.flag
    assert not Fulfilment.objects.exists() and not Resident.objects.get(pk=billed.resident_a.pk).activated
    age(order)
    from billing.tasks import orders_to_reconcile

    assert order.pk not in orders_to_reconcile()  # waits for a person


def test_an_asynchronous_payment_is_system_processing_until_it_settles(billed, stub, client):
    order, session = paid_order(billed, stub, asynchronous=True)
    assert deliver(client, "checkout.session.completed", session).status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SYSTEM_PROCESSING
    session = stub.settle(session["id"], paid=True)
    assert deliver(client, "checkout.session.async_payment_succeeded", session).status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUCCEED

    other, session = paid_order(billed, stub, [masters(billed, 2)[1]], asynchronous=True)
    deliver(client, "checkout.session.completed", session)
    assert deliver(client, "checkout.session.async_payment_failed", session).status_code == 200
    other.refresh_from_db()
    assert other.status == OrderStatus.FAILED and not hasattr(other, "fulfilment")


def test_an_event_of_no_order_or_another_kind_is_acknowledged(billed, stub, client):
    assert deliver(client, "customer.created", {"id": "cus_1", "object": "customer"}).status_code == 200
    session = {"id": "cs_unknown", "object": "checkout.session", "metadata": {}, "client_reference_id": None}
    response = deliver(client, "checkout.session.completed", session)
    assert response.status_code == 200 and response.content == b"no such order"


# --- what is extended ----------------------------------------------------------------------------


def test_a_renewal_moves_each_expiry_to_renew_to(billed, stub, client):
    residents = masters(billed, 3)
    now = timezone.now()
    Resident.objects.filter(pk__in=[r.pk for r in residents]).update(
        activated=True, expires_at=now + timedelta(days=5)
    )
    renew_to = (now + timedelta(days=200)).date()
    order = services.order_create(
        actor=billed.installer_a,
        order_type=OrderType.RENEW,
        items=[Item(ItemType.APP, r.pk) for r in residents],
        renew_to=renew_to,
    )
    checkout.start_checkout(actor=billed.installer_a, order=order)
    order.refresh_from_db()
    deliver(client, "checkout.session.completed", stub.pay(order.stripe_session_id))
    expected = order.items.first().expires_after
    assert expected.date() == renew_to
    assert set(
        Resident.objects.filter(pk__in=[r.pk for r in residents]).values_list("expires_at", flat=True)
    ) == {expected}
    assert not Resident.objects.filter(pk=billed.member_a.pk, expires_at=expected).exists()  # not a master


def test_pm_apps_and_premium_plans_are_extended_and_nothing_else(billed, stub, client):
    Community.objects.filter(pk=billed.community_a.pk).update(feature_plan=FeaturePlan.PREMIUM)
    PropertyManagerAssignment.objects.filter(pk=billed.assignment_a.pk).update(app_enabled=True)
    order = services.order_create(
        actor=billed.installer_a,
        order_type=OrderType.ACTIVATION,
        items=[
            Item(ItemType.APP, billed.resident_a.pk),
            Item(ItemType.PM_APP, billed.assignment_a.pk),
            Item(ItemType.PREMIUM, billed.community_a.pk),
        ],
    )
    checkout.start_checkout(actor=billed.installer_a, order=order)
    order.refresh_from_db()
    deliver(client, "checkout.session.completed", stub.pay(order.stripe_session_id))
    later = timezone.now() + timedelta(days=360)
    assignment = PropertyManagerAssignment.objects.get(pk=billed.assignment_a.pk)
    assert assignment.app_activated and assignment.app_expires_at > later
    assert Community.objects.get(pk=billed.community_a.pk).plan_expires_at > later
    assert Community.objects.get(pk=billed.community_a2.pk).plan_expires_at is None
    assert Resident.objects.get(pk=billed.resident_a.pk).expires_at > later


def test_an_account_deleted_since_the_order_is_skipped(billed, stub, client):
    residents = masters(billed, 2)
    order, session = paid_order(billed, stub, residents)
    Resident.objects.filter(pk=residents[1].pk).delete()
    assert deliver(client, "checkout.session.completed", session).status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUCCEED
    assert Resident.objects.get(pk=residents[0].pk).activated


def _fulfil_queries(world, stub, client, residents) -> int:
    _order, session = paid_order(world, stub, residents)
    payload = event("checkout.session.completed", session)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)
        )
    assert json.loads(json.dumps(response.content.decode())) == "fulfilled"
    assert Resident.objects.filter(pk__in=[r.pk for r in residents], activated=True).count() == len(residents)
    return len(queries)


def test_the_query_count_does_not_grow_with_the_items(billed, stub, client):
    residents = masters(billed, 33)
    few = _fulfil_queries(billed, stub, client, residents[:3])
    many = _fulfil_queries(billed, stub, client, residents[3:33])
    assert few == many, (few, many)
    assert AuditLog.objects.filter(object_id__in=[str(r.pk) for r in residents]).exists()


# --- closing a checkout --------------------------------------------------------------------------


def test_cancel_closes_the_session(billed, stub):
    order = activation(billed, [billed.resident_a])
    checkout.start_checkout(actor=billed.installer_a, order=order)
    order = checkout.order_cancel(actor=billed.installer_a, order=order)
    assert order.status == OrderStatus.CANCEL
    assert stub.sessions[order.stripe_session_id]["status"] == "expired"
    with pytest.raises(ValidationError, match="cannot be paid"):
        checkout.start_checkout(actor=billed.installer_a, order=order)


def test_cancel_or_delete_after_paying_fulfils_instead(billed, stub):
    order, _session = paid_order(billed, stub)
    with pytest.raises(checkout.JustPaid):
        checkout.order_cancel(actor=billed.installer_a, order=order)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUCCEED
    other, _session = paid_order(billed, stub, [masters(billed, 2)[1]])
    with pytest.raises(ValidationError, match="just been paid"):
        services.order_delete(actor=billed.installer_a, order=other)
    assert Order.objects.get(pk=other.pk).status == OrderStatus.SUCCEED


def test_delete_expires_the_open_session(billed, stub):
    order = activation(billed, [billed.resident_a])
    checkout.start_checkout(actor=billed.installer_a, order=order)
    order.refresh_from_db()
    assert services.order_delete(actor=billed.installer_a, order=order) == "deleted"
    assert stub.sessions[order.stripe_session_id]["status"] == "expired"


# --- reconcile -----------------------------------------------------------------------------------


def test_reconcile_recovers_a_lost_webhook_and_an_expiry(billed, stub):
    residents = masters(billed, 3)
    paid, _ = paid_order(billed, stub, residents[:1])
    expired = activation(billed, residents[1:2])
    checkout.start_checkout(actor=billed.installer_a, order=expired)
    expired.refresh_from_db()
    stub.time_out(expired.stripe_session_id)
    young, _ = paid_order(billed, stub, residents[2:3])
    for order in (paid, expired):
        age(order)
    reconcile_orders_task.delay()
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.SUCCEED
    assert Order.objects.get(pk=expired.pk).status == OrderStatus.TIME_OUT
    assert Order.objects.get(pk=young.pk).status == OrderStatus.PROCESSING  # left to its webhook


def test_reconcile_expires_a_session_left_open_past_its_expiry(billed, stub):
    order = activation(billed, [billed.resident_a])
    checkout.start_checkout(actor=billed.installer_a, order=order)
    Order.objects.filter(pk=order.pk).update(
        created=timezone.now() - timedelta(hours=2), checkout_expires_at=timezone.now() - timedelta(minutes=6)
    )
    reconcile_orders_task.delay()
    order.refresh_from_db()
    assert order.status == OrderStatus.TIME_OUT
    assert stub.sessions[order.stripe_session_id]["status"] == "expired"


def test_stripe_unreachable_changes_nothing(billed, stub):
    order = activation(billed, [billed.resident_a])
    stub.down = True
    with pytest.raises(ValidationError, match="could not be reached"):
        checkout.start_checkout(actor=billed.installer_a, order=order)
    order.refresh_from_db()
    assert order.stripe_session_id == "" and order.status == OrderStatus.PROCESSING
    stub.down = False
    checkout.start_checkout(actor=billed.installer_a, order=order)
    stub.down = True
    with pytest.raises(ValidationError, match="could not be reached"):
        services.order_delete(actor=billed.installer_a, order=order)
    assert Order.objects.filter(pk=order.pk, status=OrderStatus.PROCESSING).exists()


def test_paying_again_after_the_expiry_times_the_order_out(billed, stub):
    order = activation(billed, [billed.resident_a])
    checkout.start_checkout(actor=billed.installer_a, order=order)
    order.refresh_from_db()
    stub.time_out(order.stripe_session_id)
    Order.objects.filter(pk=order.pk).update(checkout_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="Time out: it cannot be paid"):
        checkout.start_checkout(actor=billed.installer_a, order=order)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.TIME_OUT  # committed


def test_reconcile_replays_an_undelivered_payment_failure(billed, stub, client):
    order, session = paid_order(billed, stub, asynchronous=True)
    deliver(client, "checkout.session.completed", session)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SYSTEM_PROCESSING
    # The async_payment_failed delivery was lost: the session alone (complete, unpaid) cannot tell.
    stub.events.undelivered = [
        json.loads(event("checkout.session.async_payment_failed", session, "evt_lost"))
    ]
    age(order)
    reconcile_orders_task.delay()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FAILED
    assert StripeEvent.objects.filter(event_id="evt_lost", order=order).exists()
    assert stub.events.calls[0]["delivery_success"] is False
    reconcile_orders_task.delay()  # listed again: already processed, nothing happens
    assert StripeEvent.objects.filter(event_id="evt_lost").count() == 1


def test_the_success_page_refresh_can_be_quiet_when_stripe_is_down(billed, stub):
    order, _session = paid_order(billed, stub)
    stub.down = True
    assert checkout.refresh(order.pk, quiet=True) == "unchanged"
    import stripe

    with pytest.raises(stripe.APIConnectionError):
        checkout.refresh(order.pk)
    stub.down = False
    assert checkout.refresh(order.pk) == "fulfilled"


def test_beat_reconciles_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["billing-reconcile"]
    assert entry == {"task": "billing.tasks.reconcile_orders_task", "schedule": 300.0}
