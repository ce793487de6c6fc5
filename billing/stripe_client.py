"""The one place that builds the Stripe client: the real SDK, pointed at STRIPE_API_BASE (Stripe
itself in production, the fake Stripe server of the tests and the demo)."""

from __future__ import annotations

import functools

import stripe
from django.conf import settings


@functools.lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    # The SDK retries a failed connection with the same Idempotency-Key, so a retried create
    # returns the session the first attempt made.
    return stripe.StripeClient(api_key, base_addresses={"api": api_base}, max_network_retries=2)


def client() -> stripe.StripeClient:
    """The client for the current settings (tests change them; one client per pair)."""
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def sessions():
    """The Checkout Session service: create, retrieve, expire."""
    return client().v1.checkout.sessions


def events():
    """The Event service: list (reconcile's undelivered events)."""
    return client().v1.events
