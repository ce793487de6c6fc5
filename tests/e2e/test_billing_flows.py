"""Subscriptions in a real browser: tick three accounts, reach the Pending Order, exchange a
coupon in its dialog and use it; select all 3,000 accounts of a filter and reach the Pending
Order with 3,000 items (the selection is one field, not 3,000)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.models import Coupon, Order
from residents.models import Apartment, Resident
from tests.billing.conftest import coupon
from tests.factories import make_apartment, make_building


@pytest.fixture(autouse=True)
def default_prices(db):
    """live_server's tests flush the database, the data migration's default price list too."""
    from importlib import import_module

    from billing.models import PriceList

    defaults = import_module("billing.migrations.0002_default_price_list").DEFAULTS
    PriceList.objects.get_or_create(distributor=None, defaults=defaults)


def test_three_accounts_to_the_pending_order_with_a_coupon(
    live_server, page: Page, world, log_in, screenshot
):
    for number in ("102", "103"):
        make_apartment(world.building_a, number, resident={"first_name": "Res", "last_name": number})
    coupon(world, "WELCOME10", amount_off=1000, balance=1000, installer=None)  # to exchange
    log_in("inst_a")
    page.get_by_test_id("dashboard-subscriptions").click()
    page.locator("#filter-type").select_option("app")
    page.get_by_test_id("filter-submit").click()
    boxes = page.get_by_test_id("item-checkbox")
    expect(boxes).to_have_count(3)
    for i in range(3):
        boxes.nth(i).check()
    expect(page.get_by_test_id("selected-count")).to_have_text("3")
    screenshot(page, "subscriptions-activate.png")
    page.get_by_test_id("order-next").click()
    expect(page.get_by_test_id("item-count")).to_have_text("3")
    expect(page.get_by_test_id("total-price")).to_have_text("$36.00")
    order = Order.objects.get()
    expect(page.get_by_test_id("order-number")).to_have_text(order.number)
    # Exchange Coupon opens its dialog; the coupon is then offered and used.
    page.get_by_test_id("exchange-coupon").click()
    page.get_by_test_id("coupon-code").fill("WELCOME10")
    page.locator("#modal-content").get_by_role("button", name="Submit").click()
    choice = page.locator("[data-testid=coupon-choice][data-code=WELCOME10]")
    expect(choice).to_be_visible()
    choice.check()
    expect(page.get_by_test_id("should-pay")).to_have_text("$26.00")
    expect(page.get_by_test_id("coupon-pay")).to_contain_text("$10.00")
    screenshot(page, "subscriptions-pending-order.png")
    order.refresh_from_db()
    assert order.coupon_code == "WELCOME10" and order.total == 2600
    # Payments lists it with Pay; Info shows its items and coupon.
    page.get_by_test_id("nav-payments").click()
    row = page.locator(f"[data-testid=order-row][data-number='{order.number}']")
    expect(row.get_by_test_id("order-pay")).to_be_visible()
    screenshot(page, "payments.png")
    row.get_by_test_id("order-info").click()
    expect(page.get_by_test_id("coupon-number")).to_have_text("WELCOME10")
    expect(page.get_by_test_id("detail-final")).to_have_text("$26.00")
    screenshot(page, "payment-info.png")
    # Delete asks first (a dialog), then the order is gone and its coupon free again.
    page.get_by_test_id("order-delete").click()
    page.locator("#modal-content").get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Order {order.number} deleted.")).to_be_visible()
    assert not Order.objects.filter(pk=order.pk).exists()
    assert Coupon.objects.get(code="WELCOME10").reserved_by is None


def test_select_all_3000_accounts_of_a_filter(live_server, page: Page, world, log_in):
    building = make_building(world.community_a2, "Tower")
    apartments = Apartment.objects.bulk_create(
        Apartment(
            community=world.community_a2,
            building=building,
            number=f"{i + 1:05d}",
            family_sip_number=f"E{i:08d}",
        )
        for i in range(3000)
    )
    Resident.objects.bulk_create(
        Resident(community=world.community_a2, apartment=apt, first_name="Bulk", last_name=str(i))
        for i, apt in enumerate(apartments)
    )
    log_in("inst_a")
    page.goto(f"{live_server.url}/subscriptions/?tab=active&community={world.community_a2.pk}&type=app")
    expect(page.get_by_test_id("matching-count")).to_have_text("3000")
    page.get_by_test_id("select-all-matching").click()
    expect(page.get_by_test_id("selected-count")).to_have_text("3000")
    page.get_by_test_id("order-next").click()
    expect(page.get_by_test_id("item-count")).to_have_text("3000", timeout=30_000)
    order = Order.objects.get()
    assert order.item_count == 3000 and order.items.count() == 3000


def test_renew_quotes_the_total_as_the_selection_changes(live_server, page: Page, world, log_in, screenshot):
    now = timezone.now()
    Resident.objects.filter(pk=world.resident_a.pk).update(activated=True, expires_at=now + timedelta(days=5))
    log_in("inst_a")
    page.goto(f"{live_server.url}/subscriptions/?tab=renew&community={world.community_a.pk}&type=app")
    expect(page.get_by_test_id("item-row")).to_have_count(1)
    page.get_by_test_id("item-checkbox").check()
    # 365 days past the current expiry: a year of the monthly fee.
    renew_to = (timezone.localtime(now) + timedelta(days=370)).date()
    page.locator("#renew-to").fill(renew_to.isoformat())
    page.locator("#renew-to").dispatch_event("change")
    expect(page.get_by_test_id("renew-apartments")).to_have_text("1")
    expect(page.get_by_test_id("renew-total")).to_have_text("$12.00")
    screenshot(page, "subscriptions-renew.png")
    page.get_by_test_id("order-next").click()
    expect(page.get_by_test_id("total-price")).to_have_text("$12.00")
    assert Order.objects.get().renew_to == renew_to
