"""Paying an order with Stripe Checkout (mode=payment), through the real stripe SDK.

The session charges exactly the order's stored total, as one line "SmartPlus order <number>"
(quantity 1): the amounts were fixed when the order was created and a coupon is already taken
off, Stripe's negative lines do not exist and its 100-line limit would not hold 3,000 renewals
of different prices. The order's number is the session's client_reference_id and
metadata["order"], which is how a webhook finds its order.

Nothing here trusts a redirect or an event's payload: `refresh` re-fetches the session from Stripe
and billing.fulfilment applies what it says, under the order's row lock.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import BillingInformation
from smartplus import authz

from . import fulfilment, services, stripe_client
from .choices import FINAL_STATUSES, OrderStatus
from .models import Order

log = logging.getLogger(__name__)

BILLING_INFORMATION_MISSING = _("Fill in your Billing Information before you pay.")
JUST_PAID = _("This order has just been paid.")
STRIPE_UNREACHABLE = _("The payment service could not be reached: try again in a moment.")
# A session still open this long after its expiry is expired by the portal (Stripe's own sweep
# usually comes first).
EXPIRY_GRACE = timedelta(minutes=5)
# What a complete Billing Information has (Post Code and Fax are optional).
BILLING_REQUIRED = ("company", "attn", "street", "city", "country", "tel", "email")


class JustPaid(ValidationError):
    """The payer paid while the portal was closing the checkout: the order was brought up to date
    (fulfilled) instead, and the caller's transaction must still commit that."""

    def __init__(self, message: str = JUST_PAID):
        super().__init__(message)


def billing_information_complete(installer_id: int) -> bool:
    """The installer's Billing Information is there with every field Pay needs (the one rule:
    the Pending Order page and Pay ask it too)."""
    info = BillingInformation.objects.filter(installer_id=installer_id).first()
    return info is not None and all(str(getattr(info, name) or "").strip() for name in BILLING_REQUIRED)


def _absolute(path: str) -> str:
    return settings.SMARTPLUS_BASE_URL.rstrip("/") + path


def _expires_at(now):
    """The next whole minute plus the expiry setting: a retried create sends the same
    parameters (Stripe refuses an Idempotency-Key reused with others) and Stripe's at least 30
    minutes ahead still holds."""
    minute = math.ceil(now.timestamp() / 60) * 60
    # Stripe takes 30 minutes to 24 hours ahead; the rounding up may add up to a minute.
    minutes = min(max(settings.SMARTPLUS_CHECKOUT_EXPIRY_MINUTES, 30), 24 * 60 - 1)
    return minute + minutes * 60


def session_params(order: Order, expires_at: int) -> dict:
    return {
        "mode": "payment",
        "currency": order.currency,
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": order.total,
                    "product_data": {
                        "name": f"SmartPlus order {order.number}",
                        "description": _description(order),
                    },
                },
            }
        ],
        "client_reference_id": order.number,
        "metadata": {"order": order.number},
        "payment_intent_data": {"metadata": {"order": order.number}},
        "expires_at": expires_at,
        "success_url": _absolute(reverse("billing:order_return", args=[order.pk]))
        + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": _absolute(reverse("billing:order_cancelled", args=[order.pk])),
    }


def _description(order: Order) -> str:
    text = f"{order.get_order_type_display()}: {order.item_count} item{'s' if order.item_count != 1 else ''}"
    if order.coupon_amount:
        text += f", coupon {order.coupon_code} applied"
    return text


def start_checkout(*, actor, order: Order) -> str:
    """Where to send the payer: the order's Stripe Checkout page (created once; a second click
    gets the same one). A fully discounted order skips Stripe: it is fulfilled at once and ""
    is returned."""
    with transaction.atomic():
        order = services._payable(actor, order)
        if not billing_information_complete(order.installer_id):
            raise ValidationError(BILLING_INFORMATION_MISSING)
        if order.total == 0:
            fulfilment.fulfil(order)
            return ""
        url = _existing_checkout(order) if order.stripe_session_id else _new_checkout(order)
    if order.status != OrderStatus.PROCESSING:  # committed: Stripe's news about an old session
        raise ValidationError(
            gettext("This order is %(status)s: it cannot be paid.") % {"status": order.get_status_display()}
        )
    return url


def _existing_checkout(order: Order) -> str:
    if order.checkout_expires_at and order.checkout_expires_at > timezone.now():
        return order.checkout_url  # the double click: the row lock made it wait for the first
    try:  # past its expiry by our clock: Stripe's is the one that counts
        _apply(order, stripe_client.sessions().retrieve(order.stripe_session_id))
    except stripe.StripeError as exc:
        raise ValidationError(STRIPE_UNREACHABLE) from exc
    return order.checkout_url


def _new_checkout(order: Order) -> str:
    expires_at = _expires_at(timezone.now())
    try:
        session = stripe_client.sessions().create(
            session_params(order, expires_at),
            options={"idempotency_key": f"smartplus-checkout-{order.number}-{order.total}-{expires_at}"},
        )
    except stripe.StripeError as exc:  # nothing stored: the next click starts again
        log.warning("order %s: Stripe refused the checkout: %s", order.number, exc)
        raise ValidationError(STRIPE_UNREACHABLE) from exc
    order.stripe_session_id = session.id
    order.checkout_url = session.url
    order.checkout_expires_at = datetime.fromtimestamp(session.expires_at, tz=UTC)
    order.save(update_fields=["stripe_session_id", "checkout_url", "checkout_expires_at", "modified"])
    return order.checkout_url


def _apply(order: Order, session, *, event_type: str = "", event_id: str = "") -> str:
    outcome = fulfilment.apply_session(order, session, event_type=event_type, event_id=event_id)
    log.info(
        "order %s: session %s is %s/%s: %s",
        order.number,
        session.id,
        session.status,
        session.payment_status,
        outcome,
    )
    return outcome


def _expire(session_id: str):
    sessions = stripe_client.sessions()
    try:
        return sessions.expire(session_id)
    except stripe.InvalidRequestError:
        return sessions.retrieve(session_id)  # not open any more: complete, or expired


def close_session(order: Order) -> None:
    """Expire the locked order's open Checkout Session, so it cannot be paid any more. If Stripe
    says it was paid meanwhile, the order is fulfilled instead and JustPaid is raised: the caller
    catches it inside its transaction (so the fulfilment commits) and then re-raises it."""
    try:
        session = _expire(order.stripe_session_id)
    except stripe.StripeError as exc:  # the caller's transaction rolls back: nothing changes
        log.warning("order %s: Stripe could not close the checkout: %s", order.number, exc)
        raise ValidationError(STRIPE_UNREACHABLE) from exc
    if session.status == "complete":
        _apply(order, session)
        if order.status == OrderStatus.SYSTEM_PROCESSING:  # a delayed payment on its way
            raise JustPaid(gettext("This order's payment is being processed."))
        raise JustPaid


def order_cancel(*, actor, order: Order) -> Order:
    """The payer came back by Checkout's cancel link: the session is closed and the order is
    Cancel (its coupon released). Raises JustPaid if it was paid meanwhile."""
    just_paid = None
    with transaction.atomic():
        order = _cancellable(actor, order)
        if order.status == OrderStatus.PROCESSING:
            try:
                if order.stripe_session_id:
                    close_session(order)
            except JustPaid as exc:
                just_paid = exc
            else:
                services.advance(order, OrderStatus.CANCEL)
    if just_paid is not None:
        raise just_paid
    return order


def _cancellable(actor, order: Order) -> Order:
    """The order, locked, if `actor` may pay it (whatever its status: cancelling twice is fine)."""
    order = authz.get_for_actor(Order, actor, order.pk, "pay", lock=True)
    refusal = services._payer_side_refusal(actor, order.community) if order.community_id else ""
    if refusal:
        raise ValidationError(refusal)
    return order


def refresh(order_id: int, *, event_type: str = "", event_id: str = "", quiet: bool = False) -> str:
    """Re-fetch the order's Checkout Session from Stripe and apply its state. For the webhook, the
    reconcile task and the success page; no actor: Stripe's word is the authority. Stripe
    unreachable raises stripe.StripeError, or with `quiet` (a page showing the status) is logged
    and changes nothing."""
    try:
        return _refresh(order_id, event_type=event_type, event_id=event_id)
    except stripe.StripeError as exc:
        if not quiet:
            raise
        log.warning("order %s: the Stripe session could not be fetched: %s", order_id, exc)
        return fulfilment.UNCHANGED


def _refresh(order_id: int, *, event_type: str, event_id: str) -> str:
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or not order.stripe_session_id:
            return fulfilment.UNCHANGED
        if order.status in FINAL_STATUSES:  # nothing Stripe says can move it any more
            return fulfilment.ALREADY if order.status == OrderStatus.SUCCEED else fulfilment.UNCHANGED
        session = stripe_client.sessions().retrieve(order.stripe_session_id)
        expired_at = order.checkout_expires_at
        if session.status == "open" and expired_at and expired_at < timezone.now() - EXPIRY_GRACE:
            session = _expire(order.stripe_session_id)  # past its expiry: nobody can pay it now
        return _apply(order, session, event_type=event_type, event_id=event_id)
