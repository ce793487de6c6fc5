"""Orders at the service: what may be bought, by whom, at what price; coupons reserved and
released; the limits refused with a clear message and nothing written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import pricing, services
from billing.choices import CouponScope, ItemType, OrderStatus, OrderType
from billing.models import Order, OrderItem, PriceList
from billing.services import Item
from communities.choices import ChargeMode
from residents.models import Resident
from smartplus.authz import NotFound
from tests.billing.conftest import coupon
from tests.factories import make_apartment

pytestmark = pytest.mark.django_db


def app(resident) -> Item:
    return Item(ItemType.APP, resident.pk)


@pytest.fixture
def apartments(world):
    """Three more family masters in A's community, none activated."""
    masters = [world.resident_a]
    for number in ("102", "103"):
        apt = make_apartment(world.building_a, number, resident={"first_name": "Res", "last_name": number})
        masters.append(apt.residents.get(family_master__isnull=True))
    return masters


def test_an_activation_order_is_priced_from_the_default_list(world, apartments):
    prices = PriceList.objects.get(is_default=True)
    order = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(r) for r in apartments]
    )
    assert order.status == OrderStatus.PROCESSING and len(order.number) == 16
    assert order.subtotal == order.total == 3 * prices.activation_fee
    assert order.apartment_count == 3 and order.item_count == 3
    assert order.community == world.community_a and order.installer == world.installer_a
    apts = sorted(OrderItem.objects.filter(order=order).values_list("apt", "months"))
    assert apts == [("101", 12), ("102", 12), ("103", 12)]


def test_a_distributors_own_price_list_wins(world, apartments):
    PriceList.objects.create(
        distributor=world.distributor_a,
        activation_fee=999,
        monthly_fee=1,
        pm_app_monthly_fee=1,
        additional_app_monthly_fee=1,
        premium_monthly_fee=1,
    )
    order = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
    )
    assert order.total == 999


def test_renewal_is_pro_rata_by_day_to_the_date_chosen(world, apartments):
    now = timezone.now()
    Resident.objects.filter(pk=apartments[0].pk).update(activated=True, expires_at=now + timedelta(days=10))
    renew_to = (now + timedelta(days=375)).date()
    order = services.order_create(
        actor=world.installer_a, order_type=OrderType.RENEW, items=[app(apartments[0])], renew_to=renew_to
    )
    [item] = order.items.all()
    prices = PriceList.objects.get(is_default=True)
    assert 364 <= item.days <= 366
    assert item.amount == pricing.renewal_price(prices, ItemType.APP, item.days)
    assert item.expires_after.date() == renew_to


def test_the_limits_are_refused_at_the_server_with_nothing_written(world, apartments, settings):
    settings.SMARTPLUS_ORDER_MAX_ITEMS = 2
    with pytest.raises(ValidationError, match="At most 2 items"):
        services.order_create(
            actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(r) for r in apartments]
        )
    Resident.objects.filter(pk=apartments[0].pk).update(activated=True, expires_at=timezone.now())
    too_far = date.today() + timedelta(days=5 * 366 + 2)
    with pytest.raises(ValidationError, match="at most 5 years"):
        services.order_create(
            actor=world.installer_a, order_type=OrderType.RENEW, items=[app(apartments[0])], renew_to=too_far
        )
    foreign = world.apartment_b.residents.get(family_master__isnull=True)
    with pytest.raises(NotFound, match="no longer exist or are not yours"):
        services.order_create(
            actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[1]), app(foreign)]
        )
    assert Order.objects.count() == 0 and OrderItem.objects.count() == 0


def test_charge_mode_decides_who_pays(world, apartments):
    type(world.community_a).objects.filter(pk=world.community_a.pk).update(charge_mode=ChargeMode.PAY_BY_PM)
    with pytest.raises(ValidationError, match="paid by its property manager"):
        services.order_create(
            actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
        )
    order = services.order_create(
        actor=world.pm_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
    )
    assert order.payer == world.pm_a and order.charge_mode == ChargeMode.PAY_BY_PM
    # The installer sees the property manager's order, read-only; the PM sees it too.
    assert Order.objects.for_actor(world.installer_a).filter(pk=order.pk).exists()
    assert Order.objects.for_actor(world.pm_a).filter(pk=order.pk).exists()
    with pytest.raises(ValidationError, match="paid by its property manager"):
        services.order_apply_coupon(actor=world.installer_a, order=order, code="X")


def test_a_property_manager_sees_only_orders_of_their_pay_by_pm_communities(world, apartments):
    order = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
    )
    assert not Order.objects.for_actor(world.pm_a).filter(pk=order.pk).exists()
    assert not Order.objects.for_actor(world.installer_b).filter(pk=order.pk).exists()


def test_an_activated_account_is_not_activated_again(world, apartments):
    Resident.objects.filter(pk=apartments[0].pk).update(activated=True)
    with pytest.raises(ValidationError, match="already activated"):
        services.order_create(
            actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
        )


def test_a_coupon_is_reserved_by_one_order_and_released(world, apartments):
    c = coupon(world)
    first = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
    )
    second = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[1])]
    )
    first = services.order_apply_coupon(actor=world.installer_a, order=first, code="SAVE5")
    assert (first.coupon_amount, first.total) == (500, first.subtotal - 500)
    with pytest.raises(ValidationError, match="held by another order"):
        services.order_apply_coupon(actor=world.installer_a, order=second, code="SAVE5")
    services.order_drop_coupon(actor=world.installer_a, order=first)
    c.refresh_from_db()
    assert c.reserved_by is None
    second = services.order_apply_coupon(actor=world.installer_a, order=second, code="SAVE5")
    assert second.coupon == c


def test_coupons_of_another_installer_expired_or_spent_are_refused(world, apartments):
    coupon(world, "THEIRS", installer=world.installer_b)
    coupon(world, "OLD", valid_until=timezone.now() - timedelta(minutes=1))
    coupon(world, "SPENT", balance=0, used_up=True)
    coupon(world, "RENEWONLY", scope=CouponScope.RENEW)
    order = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
    )
    for code, message in (
        ("THEIRS", "not yours"),
        ("OLD", "expired"),
        ("SPENT", "used up"),
        ("RENEWONLY", "pays only for the Renewal Fee"),
    ):
        with pytest.raises(ValidationError, match=message):
            services.order_apply_coupon(actor=world.installer_a, order=order, code=code)
    order.refresh_from_db()
    assert order.coupon is None and order.total == order.subtotal


def test_exchange_coupon_gives_one_answer_for_unknown_and_foreign_codes(world):
    coupon(world, "FREE", installer=None)
    coupon(world, "TAKEN", installer=world.installer_b)
    for code in ("NOPE", "TAKEN"):
        with pytest.raises(ValidationError) as info:
            services.coupon_redeem(actor=world.installer_a, code=code)
        assert info.value.message_dict == {"code": [services.COUPON_INVALID]}
    redeemed = services.coupon_redeem(actor=world.sub_a, code="FREE")
    assert redeemed.installer == world.installer_a


def test_a_succeeded_order_is_hidden_not_deleted(world, apartments):
    order = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
    )
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SUCCEED)
    assert services.order_delete(actor=world.installer_a, order=order) == "hidden"
    assert Order.objects.filter(pk=order.pk, hidden=True).exists()
    other = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[1])]
    )
    assert services.order_delete(actor=world.installer_a, order=other) == "deleted"
    assert not Order.objects.filter(pk=other.pk).exists()


def test_status_only_moves_forward(world, apartments):
    c = coupon(world)
    order = services.order_create(
        actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])]
    )
    order = services.order_apply_coupon(actor=world.installer_a, order=order, code=c.code)
    assert services.advance(order, OrderStatus.SUCCEED)
    assert not services.advance(order, OrderStatus.TIME_OUT)  # an expiry arriving after success
    order.refresh_from_db()
    c.refresh_from_db()
    assert order.status == OrderStatus.SUCCEED
    assert (c.balance, c.used_up, c.reserved_by) == (0, True, None)


def test_the_payments_lists_stored_count_follows_creates_deletes_and_hides(world, apartments):
    def listed(actor) -> int:
        return Order.objects.for_actor(actor).filter(hidden=False).count()

    orders = [
        services.order_create(actor=world.installer_a, order_type=OrderType.ACTIVATION, items=[app(r)])
        for r in apartments
    ]
    assert services.listed_order_count(world.installer_a) == listed(world.installer_a) == 3
    assert services.listed_order_count(world.sub_a, world.community_a) == 3
    services.order_delete(actor=world.installer_a, order=orders[0])
    Order.objects.filter(pk=orders[1].pk).update(status=OrderStatus.SUCCEED)
    services.order_delete(actor=world.installer_a, order=orders[1])  # hidden
    services.order_delete(actor=world.installer_a, order=orders[1])  # hidden already: no change
    assert services.listed_order_count(world.installer_a) == listed(world.installer_a) == 1
    # Property managers count only their Pay By PM communities' orders; other tenants none.
    assert services.listed_order_count(world.pm_a) == listed(world.pm_a) == 0
    type(world.community_a).objects.filter(pk=world.community_a.pk).update(charge_mode=ChargeMode.PAY_BY_PM)
    services.order_create(actor=world.pm_a, order_type=OrderType.ACTIVATION, items=[app(apartments[0])])
    assert services.listed_order_count(world.pm_a) == listed(world.pm_a) == 1
    assert services.listed_order_count(world.installer_b) == 0
