"""Stripe's webhook: signed events in, the order brought up to date from Stripe itself.

Register `<SMARTPLUS_BASE_URL>/billing/stripe/webhook/` at Stripe with the events
checkout.session.completed, checkout.session.async_payment_succeeded,
checkout.session.async_payment_failed and checkout.session.expired (docs/billing.md).
Stripe delivers at least once, in any order, sometimes many times at once: billing.events
processes each event id once and re-fetches the session rather than trusting the payload.
"""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import fulfilment
from .events import handle_event

log = logging.getLogger(__name__)


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
    if not event.get("id"):
        return HttpResponseBadRequest("The event has no id.")
    try:
        outcome, order_id = handle_event(event)
    except stripe.StripeError as exc:  # Stripe unreachable: nothing recorded, its retry comes back
        log.warning("Stripe event %s: the session could not be fetched: %s", event["id"], exc)
        return HttpResponse("Stripe is unreachable; retry later.", status=503)
    if outcome == fulfilment.FLAGGED:
        log.error("Stripe event %s: order %s is flagged, not fulfilled", event["id"], order_id)
    return HttpResponse(outcome)
