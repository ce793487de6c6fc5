"""Celery tasks of billing. Thin: ids in, billing.checkout does the work.

Beat runs `reconcile_orders_task` every 5 minutes ("billing-reconcile"): a webhook Stripe could
not deliver (or one that failed) is made up for by re-fetching the session of every order still
waiting, so a paid order is fulfilled and an expired one times out without any event.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from smartplus.celery import fan_out

log = logging.getLogger(__name__)
LIMITS = {"soft_time_limit": 120, "time_limit": 150}
# Orders younger than this are left to their webhook (the payer may be on the Checkout page).
RECONCILE_MIN_AGE = timedelta(minutes=1)


def orders_to_reconcile() -> list[int]:
    from .choices import OrderStatus
    from .models import Order

    return list(
        Order.objects.filter(
            status__in=(OrderStatus.PROCESSING, OrderStatus.SYSTEM_PROCESSING),
            created__lt=timezone.now() - RECONCILE_MIN_AGE,
            flag="",  # a flagged order waits for a person, not for Stripe
        )
        .exclude(stripe_session_id="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@shared_task(**LIMITS)
def reconcile_orders_task() -> None:
    import stripe

    from .events import replay_undelivered

    try:
        replay_undelivered()  # first: an undelivered async_payment_failed decides its order
    except stripe.StripeError as exc:
        log.warning("reconcile: Stripe's undelivered events could not be listed: %s", exc)
    fan_out(refresh_order_task, [(pk,) for pk in orders_to_reconcile()])


@shared_task(**LIMITS, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def refresh_order_task(order_id: int) -> str:
    import stripe

    from .checkout import refresh

    try:
        return refresh(order_id)
    except stripe.StripeError as exc:  # the next reconcile run tries again
        log.warning("order %s: the Stripe session could not be fetched: %s", order_id, exc)
        return "stripe error"
