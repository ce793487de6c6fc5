"""The whole money path in a browser: activate three accounts, use a coupon, pay on the (fake)
Stripe page, the webhook makes the order Succeed, the residents show Normal with their new
expiry, Payments and Info show it, the invoice PDF holds the order; then renew the same three
to a date two years ahead and pay again.

The fake Stripe server (billing/fakestripe) speaks Stripe's HTTP API to the real SDK and posts
signed webhooks to the live server's /billing/stripe/webhook/."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from billing.choices import OrderStatus, OrderType
from billing.fakestripe import FakeStripe
from billing.models import Coupon, Fulfilment, Order
from residents.models import Resident
from tests.billing.conftest import billing_information, coupon
from tests.factories import make_apartment

API_KEY, SECRET = "sk_test_browser_flow", "whsec_browser_flow"


@pytest.fixture(autouse=True)
def default_prices(db):
    """live_server's tests flush the database, the data migration's default price list too."""
    from importlib import import_module

    from billing.models import PriceList

    defaults = import_module("billing.migrations.0002_default_price_list").DEFAULTS
    PriceList.objects.get_or_create(distributor=None, defaults=defaults)


@pytest.fixture
def stripe_fake(live_server, settings):
    with FakeStripe(
        api_key=API_KEY, webhook_url=f"{live_server.url}/billing/stripe/webhook/", webhook_secret=SECRET
    ) as fake:
        settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = fake.url, API_KEY
        settings.STRIPE_WEBHOOK_SECRET = SECRET
        settings.SMARTPLUS_BASE_URL = live_server.url
        yield fake


def pay_on_stripe(page: Page, fake: FakeStripe, order: Order) -> None:
    """Pay, on the hosted page; back on the portal's confirmation once the webhook made it Succeed."""
    page.get_by_test_id("pay").click()
    expect(page.locator("#pay")).to_be_visible()  # Stripe's page, not the portal's
    page.locator("#pay").click()
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    fake.wait_for_deliveries(1, timeout=10, ok=True, type="checkout.session.completed")
    page.reload()
    expect(page.get_by_test_id("confirmation")).to_contain_text("Succeed")
    order.refresh_from_db()
    assert order.status == OrderStatus.SUCCEED and Fulfilment.objects.filter(order=order).count() == 1


def select_three(page: Page) -> None:
    boxes = page.get_by_test_id("item-checkbox")
    expect(boxes).to_have_count(3)
    for i in range(3):
        boxes.nth(i).check()
    expect(page.get_by_test_id("selected-count")).to_have_text("3")


def test_activate_with_a_coupon_pay_on_stripe_then_renew_two_years(
    live_server, page: Page, world, log_in, stripe_fake, tmp_path
):
    for number in ("102", "103"):
        make_apartment(world.building_a, number, resident={"first_name": "Res", "last_name": number})
    masters = Resident.objects.filter(community=world.community_a, family_master__isnull=True)
    # Far from UTC: Renew To is a date in the community's time zone.
    type(world.community_a).objects.filter(pk=world.community_a.pk).update(time_zone="Pacific/Auckland")
    world.community_a.refresh_from_db()
    billing_information(world.installer_a)
    coupon(world, "WELCOME10", amount_off=1000, balance=1000, installer=None)  # to exchange
    log_in("inst_a")

    # Activate: three accounts, the coupon, Stripe.
    page.get_by_test_id("dashboard-subscriptions").click()
    page.locator("#filter-type").select_option("app")
    page.get_by_test_id("filter-submit").click()
    select_three(page)
    page.get_by_test_id("order-next").click()
    expect(page.get_by_test_id("total-price")).to_have_text("$36.00")
    page.get_by_test_id("exchange-coupon").click()
    page.get_by_test_id("coupon-code").fill("WELCOME10")
    page.locator("#modal-content").get_by_role("button", name="Submit").click()
    page.locator("[data-testid=coupon-choice][data-code=WELCOME10]").check()
    expect(page.get_by_test_id("should-pay")).to_have_text("$26.00")
    order = Order.objects.get()
    paid_from = timezone.now()
    pay_on_stripe(page, stripe_fake, order)
    assert stripe_fake.session(order.stripe_session_id)["amount_total"] == 2600

    # The accounts are active for the price list's 12 months; the coupon is spent.
    assert masters.count() == 3
    for master in masters:
        assert master.activated and master.active_status == "normal"
        assert abs(master.expires_at - (paid_from + relativedelta(months=12))) < timedelta(minutes=5)
    spent = Coupon.objects.get(code="WELCOME10")
    assert (spent.balance, spent.used_up, spent.reserved_by) == (0, True, None)

    # Payments and Info show it; the invoice holds the order, its lines and totals.
    page.get_by_test_id("nav-payments").click()
    row = page.locator(f"[data-testid=order-row][data-number='{order.number}']")
    expect(row).to_contain_text("Succeed")
    row.get_by_test_id("order-info").click()
    expect(page.get_by_test_id("detail-final")).to_have_text("$26.00")
    with page.expect_download() as download:
        page.get_by_test_id("download-invoice").click()
    path = tmp_path / "invoice.pdf"
    download.value.save_as(path)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert order.number in text
    for apt in ("101", "102", "103"):
        assert apt in text
    assert "36.00" in text and "10.00" in text and "26.00" in text

    # Renew the same three to a date two years ahead.
    zone = ZoneInfo(world.community_a.time_zone)
    renew_to = (timezone.localtime(timezone.now(), zone) + relativedelta(years=2)).date()
    page.goto(f"{live_server.url}/subscriptions/?tab=renew&community={world.community_a.pk}&type=app")
    select_three(page)
    page.locator("#renew-to").fill(renew_to.isoformat())
    page.locator("#renew-to").dispatch_event("change")
    expect(page.get_by_test_id("renew-apartments")).to_have_text("3")
    page.get_by_test_id("order-next").click()
    renewal = Order.objects.get(order_type=OrderType.RENEW)
    expect(page.get_by_test_id("order-number")).to_have_text(renewal.number)
    pay_on_stripe(page, stripe_fake, renewal)
    for master in masters.all():
        local = timezone.localtime(master.expires_at, zone)
        assert (local.date(), local.hour, local.minute) == (renew_to, 0, 0)
