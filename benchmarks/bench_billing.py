"""Orders: creating and fulfilling an activation of 3,000 accounts, and the Payments list.

orders — one community with 3,000 family masters, none activated. Creating the activation order
of all 3,000 (`billing.services.order_create`: authorization, pricing, the order and its items) and
of 30 are timed and their queries counted (goal: the same number of queries). Fulfilling the
3,000-account order (`billing.fulfilment.fulfil` on the locked order with a paid Checkout
Session: the accounts' bulk update through the residents service with its audit entries, the
Fulfilment row, Succeed, its coupon) is timed against its floor, a bare
`UPDATE residents_resident SET activated, expires_at WHERE id = ANY(...)` of the same rows (goal
≤ 3 times). Every run is rolled back, so each starts from the same state.

payments — the Payments list page 1 of an installer with 100 orders and of one with 100,000
(goal: ratio ≤ 1.2, the same number of queries).
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from datetime import timedelta

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from billing import fulfilment, services
from billing.choices import ItemType, OrderStatus, OrderType
from billing.models import Order, OrderCount
from billing.services import Item
from communities.models import Building, Community
from residents.models import Apartment, Resident

from .harness import (
    Options,
    Report,
    analyze,
    benchmark,
    capture_queries,
    client_for,
    get_ok,
    log,
    ms,
    timeit_interleaved,
)

ACCOUNTS, FEW = 3_000, 30
FULFIL_GOAL = 3.0
SMALL_ORDERS, LARGE_ORDERS = 100, 100_000
LIST_GOAL = 1.2
BATCH = 5_000


class _Rollback(Exception):
    pass


def rolled_back(fn):
    """`fn` in a transaction that is always rolled back: every run starts from the same rows."""

    def run():
        try:
            with transaction.atomic():
                fn()
                raise _Rollback
        except _Rollback:
            pass

    return run


def build_masters(installer: User, count: int) -> list[Resident]:
    community = Community.objects.create(
        installer=installer,
        name="Bench billing",
        number_of_apartments=count,
        country="US",
        city="Springfield",
        street="1 Main Street",
    )
    building = Building.objects.create(community=community, name="Building 1")
    apts = Apartment.objects.bulk_create(
        Apartment(
            community=community, building=building, number=f"{i + 1:04d}", family_sip_number=f"B{i:09d}"
        )
        for i in range(count)
    )
    masters = Resident.objects.bulk_create(
        Resident(community=community, apartment=apt, first_name="Res", last_name=apt.number) for apt in apts
    )
    Community.objects.filter(pk=community.pk).update(apartment_count=count, end_user_count=count)
    return masters


@benchmark("orders")
def orders(report: Report, options: Options) -> None:
    """Activation order of 3,000 accounts: create and fulfil (goal ≤ 3 x a bare UPDATE)."""
    installer = User.objects.create_user(
        username="bench-billing", email="bb@example.test", role=Role.INSTALLER
    )
    masters = build_masters(installer, ACCOUNTS)
    analyze()
    items = [Item(ItemType.APP, r.pk) for r in masters]

    def create(n: int):
        return lambda: services.order_create(
            actor=installer, order_type=OrderType.ACTIVATION, items=items[:n]
        )

    rolled_back(create(FEW))()  # warm: the content types and price list the first call caches
    counts = {n: len(capture_queries(rolled_back(create(n)))) for n in (FEW, ACCOUNTS)}
    ids = [r.pk for r in masters]
    expires = timezone.now() + timedelta(days=365)

    def fulfil(order: Order) -> None:
        order = Order.objects.select_for_update().get(pk=order.pk)
        order.stripe_session_id = "cs_bench"
        session = {
            "id": "cs_bench",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": order.total,
            "currency": order.currency,
        }
        outcome = fulfilment.fulfil(order, session=session, event_id="evt_bench")
        if outcome != fulfilment.FULFILLED:
            raise AssertionError(f"the bench order was not fulfilled: {outcome}")

    def bare_update(order: Order) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Resident._meta.db_table} SET activated = true, expires_at = %s WHERE id = ANY(%s)",
                [expires, ids],
            )

    def timed(step) -> float:
        """`step` on a fresh 3,000-account order, the order's creation untimed, all rolled back."""
        try:
            with transaction.atomic():
                order = create(ACCOUNTS)()
                gc.collect()
                start = time.perf_counter()
                step(order)
                elapsed = (time.perf_counter() - start) * 1000
                raise _Rollback
        except _Rollback:
            return elapsed

    def fulfil_queries(n: int) -> int:
        try:
            with transaction.atomic():
                order = create(n)()
                count = len(capture_queries(lambda: fulfil(order)))
                raise _Rollback
        except _Rollback:
            return count

    log(f"  timing {options.repeat} runs each ...")
    repeat = max(3, min(options.repeat, 10))
    creation = timeit_interleaved({"create": rolled_back(create(ACCOUNTS))}, repeat=repeat, warmup=1)[
        "create"
    ]
    samples = {"fulfil": [], "bare": []}
    for _ in range(repeat + 1):  # the first of each is a warm-up
        samples["fulfil"].append(timed(fulfil))
        samples["bare"].append(timed(bare_update))
    fulfil_ms = statistics.median(samples["fulfil"][1:])
    bare_ms = statistics.median(samples["bare"][1:])
    queries = {n: fulfil_queries(n) for n in (FEW, ACCOUNTS)}
    timings = {"create": creation}
    report.add(f"create an activation order of {ACCOUNTS:,} accounts", timings["create"].figure)
    report.same_queries(f"queries creating {FEW} / {ACCOUNTS:,} accounts", counts[FEW], counts[ACCOUNTS])
    report.add("fulfil it (accounts activated with their audit entries, Fulfilment, Succeed)", ms(fulfil_ms))
    report.same_queries(f"queries fulfilling {FEW} / {ACCOUNTS:,} accounts", queries[FEW], queries[ACCOUNTS])
    report.add("bare UPDATE of the same rows", ms(bare_ms))
    ratio = fulfil_ms / bare_ms if bare_ms > 0 else float("inf")
    report.add("  fulfilment / bare UPDATE", f"{ratio:.2f}", f"≤ {FULFIL_GOAL}", ratio <= FULFIL_GOAL)


def build_orders(installer: User, count: int, rng: random.Random) -> None:
    now = timezone.now()
    statuses = [s for s, _ in OrderStatus.choices]
    for start in range(0, count, BATCH):
        Order.objects.bulk_create(
            Order(
                number=f"{installer.pk:04d}{i:012d}",
                installer=installer,
                payer=installer,
                payer_name=installer.username,
                order_type=rng.choice((OrderType.ACTIVATION, OrderType.RENEW)),
                status=rng.choice(statuses),
                currency="usd",
                subtotal=1200,
                total=1200,
                apartment_count=1,
                item_count=1,
            )
            for i in range(start, min(start + BATCH, count))
        )
    # The stored count the services keep for each create, delete and hide.
    OrderCount.objects.create(installer=installer, community=None, charge_mode="installer", count=count)
    # Spread the created times as a real history (bulk_create stamps them all alike).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Order._meta.db_table} SET created = %s - (id %% 100000) * interval '5 minutes' "
            "WHERE installer_id = %s",
            [now, installer.pk],
        )


@benchmark("payments")
def payments(report: Report, options: Options) -> None:
    """Payments list page 1: 100 vs 100,000 orders (goal ≤ 1.2, equal query counts)."""
    rng = random.Random(20261202)
    small = User.objects.create_user(username="bench-pay-small", email="ps@example.test", role=Role.INSTALLER)
    large = User.objects.create_user(username="bench-pay-large", email="pl@example.test", role=Role.INSTALLER)
    log(f"  building {SMALL_ORDERS} and {LARGE_ORDERS:,} orders ...")
    build_orders(small, SMALL_ORDERS, rng)
    build_orders(large, LARGE_ORDERS, rng)
    analyze()
    url = reverse("billing:order_list")
    clients = {"small": client_for(small), "large": client_for(large)}
    cases = {name: (lambda c=c: get_ok(c, url)) for name, c in clients.items()}
    for name, count in (("small", SMALL_ORDERS), ("large", LARGE_ORDERS)):
        if f"{count} In All" not in cases[name]().content.decode():
            raise AssertionError(f"the Payments list of the {name} installer does not show {count:,} orders")
    queries = {name: len(capture_queries(fn)) for name, fn in cases.items()}
    timings = timeit_interleaved(cases, repeat=options.repeat, warmup=options.warmup)
    report.add(f"Payments page 1, {SMALL_ORDERS} orders", timings["small"].figure)
    report.add(f"Payments page 1, {LARGE_ORDERS:,} orders", timings["large"].figure)
    report.ratio(f"ratio {LARGE_ORDERS:,} / {SMALL_ORDERS}", timings["large"], timings["small"], LIST_GOAL)
    report.same_queries(f"queries {SMALL_ORDERS} / {LARGE_ORDERS:,}", queries["small"], queries["large"])
