"""One Stripe event, processed once, whether the webhook brought it or reconcile found it
undelivered at Stripe (GET /v1/events?delivery_success=false).

The event id is recorded first (StripeEvent, unique): a concurrent duplicate waits on that row's
index and then finds it, and does nothing. The event only says which order to look at and what
kind of news it is; `checkout.refresh` re-fetches the session and applies it under the order's row
lock. If anything fails the event's row is rolled back with the rest, so a retry does the work.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import checkout, stripe_client
from .models import Order, StripeEvent

SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
DUPLICATE = "Already processed."


def _order_id_for(session: dict) -> int | None:
    """The order a session event is about: by the number it carries, else by the session id."""
    metadata = session.get("metadata") or {}
    number = metadata.get("order") or session.get("client_reference_id") or ""
    session_id = session.get("id") or ""
    q = Q(number=number) if number else Q()
    if session_id:
        q |= Q(stripe_session_id=session_id)
    if not q:
        return None
    return Order.objects.filter(q).values_list("pk", flat=True).first()


def handle_event(event: dict) -> tuple[str, int | None]:
    """(outcome, order id) of a verified event (a plain dict). Raises stripe.StripeError when the
    session cannot be fetched; nothing is recorded then."""
    event_id, event_type = event.get("id") or "", event.get("type") or ""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(event_id=event_id, event_type=event_type[:64])
        except IntegrityError:
            return DUPLICATE, None
        outcome, order_id = "ignored", None
        if event_type in SESSION_EVENTS:
            order_id = _order_id_for((event.get("data") or {}).get("object") or {})
            if order_id is None:
                outcome = "no such order"
            else:
                outcome = checkout.refresh(order_id, event_type=event_type, event_id=event_id)
        record.order_id, record.outcome = order_id, str(outcome)[:255]
        record.save(update_fields=["order", "outcome"])
    return str(outcome), order_id


# Stripe retries a delivery for three days; an event older than that is not looked for.
REPLAY_WINDOW = timedelta(days=3)
REPLAY_MAX = 1000


def replay_undelivered() -> int:
    """Process the checkout events Stripe could not deliver to the webhook (oldest first, as they
    happened): a dropped async_payment_failed is the only way to tell a failed payment from one
    still on its way, since both leave the session complete and unpaid. Returns how many were new."""
    since = int((timezone.now() - REPLAY_WINDOW).timestamp())
    listing = stripe_client.events().list(
        params={
            "delivery_success": False,
            "types": sorted(SESSION_EVENTS),
            "created": {"gte": since},
            "limit": 100,
        }
    )
    found = []
    for event in listing.auto_paging_iter():
        found.append(event.to_dict())
        if len(found) >= REPLAY_MAX:
            break
    known = set(
        StripeEvent.objects.filter(event_id__in=[e["id"] for e in found]).values_list("event_id", flat=True)
    )
    new = 0
    for event in sorted(found, key=lambda e: e.get("created") or 0):
        if event["id"] not in known and handle_event(event)[0] != DUPLICATE:
            new += 1
    return new
