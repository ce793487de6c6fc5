"""Stripe's webhook: signed events in, the order brought up to date from Stripe itself.

Register `<SMARTPLUS_BASE_URL>/billing/stripe/webhook/` at Stripe with the events
checkout.session.completed, checkout.session.async_payment_succeeded,
checkout.session.async_payment_failed and checkout.session.expired (docs/billing.md).

Stripe delivers at least once, in any order, sometimes many times at once. Each event id is
recorded first (StripeEvent, unique): a concurrent duplicate waits on that row's index and then
finds it, and is answered 200 without doing anything. The event's payload only says which order
to look at; `checkout.refresh` re-fetches the session and applies it under the order's row lock,
and the order's one Fulfilment row makes paying twice impossible. If anything fails the event's
row is rolled back with the rest and Stripe's retry does the work.
"""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import checkout, fulfilment
from .models import Order, StripeEvent

log = logging.getLogger(__name__)

SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)


def _order_id_for(session) -> int | None:
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


@csrf_exempt
@require_POST
def stripe_webhook(request):
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:  # an empty secret would accept anyone's signature
        log.error("STRIPE_WEBHOOK_SECRET is not set: Stripe events are refused")
        return HttpResponseBadRequest("The webhook is not configured.")
    try:
        payload = request.body.decode("utf-8")
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature"), secret
        ).to_dict()
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("Bad signature or payload.")
    event_id, event_type = event.get("id") or "", event.get("type") or ""
    if not event_id:
        return HttpResponseBadRequest("The event has no id.")
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = StripeEvent.objects.create(event_id=event_id, event_type=event_type[:64])
            except IntegrityError:
                return HttpResponse("Already processed.")
            outcome, order_id = "ignored", None
            if event_type in SESSION_EVENTS:
                order_id = _order_id_for(event["data"]["object"])
                if order_id is None:
                    outcome = "no such order"
                else:
                    outcome = checkout.refresh(order_id, event_type=event_type, event_id=event_id)
            record.order_id, record.outcome = order_id, str(outcome)[:255]
            record.save(update_fields=["order", "outcome"])
    except stripe.StripeError as exc:  # Stripe unreachable: nothing recorded, its retry comes back
        log.warning("Stripe event %s: the session could not be fetched: %s", event_id, exc)
        return HttpResponse("Stripe is unreachable; retry later.", status=503)
    if outcome == fulfilment.FLAGGED:
        log.error("Stripe event %s: order %s is flagged, not fulfilled", event_id, order_id)
    return HttpResponse(str(outcome))
