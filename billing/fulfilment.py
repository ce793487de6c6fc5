"""Extending exactly the accounts an order paid for, once.

Everything here runs on an order the caller has locked (select_for_update) inside a transaction,
with the Checkout Session as Stripe reports it *now* (re-fetched, never an event's payload). The
order's Fulfilment row (one per order) is written in the same transaction as the extension, so a
second delivery of the same payment, a reconcile run and a webhook racing each other find it and
do nothing. Statuses only move forward (services.advance).
"""

from __future__ import annotations

from collections import defaultdict

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from accounts.models import PropertyManagerAssignment
from accounts.services import pm_app_subscriptions_extend
from communities.choices import FeaturePlan
from communities.models import Community
from communities.services import premium_plans_extend
from residents.models import Resident
from residents.services import subscriptions_extend
from smartplus import roles
from smartplus.authz import NotFound

from . import signals
from .choices import FINAL_STATUSES, ItemType, OrderStatus, OrderType
from .models import Fulfilment, Order
from .services import advance

# Outcomes (recorded on the StripeEvent and logged).
FULFILLED, ALREADY, FLAGGED, UNCHANGED = "fulfilled", "already fulfilled", "flagged", "unchanged"


def _get(obj, key, default=None):
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _id_of(value) -> str:
    """An expandable field: an id, or the expanded object."""
    return value if isinstance(value, str) else _get(value, "id", "")


def session_is_paid(session) -> bool:
    return _get(session, "status") == "complete" and _get(session, "payment_status") in (
        "paid",
        "no_payment_required",
    )


def _payment_failed(session) -> bool:
    """A completed, unpaid session whose (expanded) payment intent can no longer succeed."""
    intent = _get(session, "payment_intent")
    return not isinstance(intent, str) and _get(intent, "status") in ("requires_payment_method", "canceled")


def apply_session(order: Order, session, *, event_type: str = "", event_id: str = "") -> str:
    """Bring the locked `order` to what its Checkout Session says: paid → fulfilled (Succeed);
    expired → Time out; complete but unpaid → System Processing (an asynchronous payment on its
    way) or Failed (Stripe said the payment failed); open → nothing."""
    session_id = _get(session, "id", "")
    if order.stripe_session_id and session_id != order.stripe_session_id:
        if session_is_paid(session):  # money taken through a session the order does not know
            return _flag(order, f"Paid through Checkout Session {session_id}, not the order's own.")
        return UNCHANGED  # an older session of the order (a lost response): nothing to do
    if session_is_paid(session):
        return fulfil(order, session=session, event_id=event_id)
    status = _get(session, "status")
    if status == "expired":
        return OrderStatus.TIME_OUT if advance(order, OrderStatus.TIME_OUT) else UNCHANGED
    if status == "complete":
        if event_type == "checkout.session.async_payment_failed" or _payment_failed(session):
            return OrderStatus.FAILED if advance(order, OrderStatus.FAILED) else UNCHANGED
        moved = advance(order, OrderStatus.SYSTEM_PROCESSING)
        return OrderStatus.SYSTEM_PROCESSING if moved else UNCHANGED
    return UNCHANGED  # open: the payer has not finished


def _flag(order: Order, reason: str) -> str:
    """Paid, but not as the order says: kept out of Succeed (System Processing with the reason,
    shown in the order's Info) and nothing extended; someone has to look at it."""
    if not advance(order, OrderStatus.SYSTEM_PROCESSING, flag=reason[:255]):
        order.flag = reason[:255]
        order.save(update_fields=["flag", "modified"])
    return FLAGGED


def fulfil(order: Order, *, session=None, event_id: str = "") -> str:
    """Extend the locked, paid `order`'s accounts once and mark it Succeed. `session` is the
    re-fetched Checkout Session (None for a fully discounted order, which skips Stripe)."""
    if Fulfilment.objects.filter(order_id=order.pk).exists():
        return ALREADY
    if order.status in FINAL_STATUSES:  # cannot happen through the portal's own flows
        return _flag(order, f"Paid after the order became {order.get_status_display()}: refund it.")
    amount, currency, intent = 0, order.currency, ""
    if session is not None:
        amount, currency = _get(session, "amount_total", -1), str(_get(session, "currency", "")).lower()
        intent = _id_of(_get(session, "payment_intent", ""))
        if amount != order.total or currency != order.currency:
            return _flag(
                order,
                f"Stripe was paid {amount} {currency.upper()}, the order is {order.total} "
                f"{order.currency.upper()} (in cents): not fulfilled.",
            )
    if order.order_type != OrderType.ACTIVATION and order.items.filter(expires_after__isnull=True).exists():
        return _flag(order, "An item of this renewal has no Renew To: not fulfilled.")
    now = timezone.now()
    _extend(order, now)
    Fulfilment.objects.create(
        order=order, stripe_event_id=event_id, amount=amount, currency=currency, items=order.item_count
    )
    advance(order, OrderStatus.SUCCEED, paid_at=now, stripe_payment_intent=intent, flag="")
    if order.order_type == OrderType.RENEW:
        order_id = order.pk  # the renewal emails (notifications), once the extension is committed
        transaction.on_commit(lambda: signals.order_renewed.send(sender=Order, order_id=order_id))
    return FULFILLED


def _extend(order: Order, now) -> None:
    """One bulk write per (kind of account, new expiry): activation buys the item's months from
    now and activates; a renewal moves the expiry to the item's Renew To. Accounts deleted since
    the order was created are skipped (the apps' services are all or nothing: when one refuses,
    the ids still there are looked up and sent again)."""
    groups: dict[tuple[str, object], set[int]] = defaultdict(set)
    rows = order.items.values_list(
        "item_type", "resident_id", "assignment_id", "community_id", "months", "expires_after"
    )
    activation = order.order_type == OrderType.ACTIVATION
    until: dict[int, object] = {}  # months -> expiry, computed once per distinct length
    for item_type, resident_id, assignment_id, community_id, months, expires_after in rows:
        pk = {ItemType.APP: resident_id, ItemType.PM_APP: assignment_id, ItemType.PREMIUM: community_id}[
            item_type
        ]
        if pk is None:
            continue
        if activation:
            if months not in until:
                until[months] = now + relativedelta(months=months)
            expires = until[months]
        else:
            expires = expires_after
        groups[(item_type, expires)].add(pk)
    installer = order.installer
    for (item_type, expires), pks in groups.items():
        try:
            _extend_group(installer, item_type, sorted(pks), expires, activation)
        except NotFound:
            there = sorted(pks & _still_there(installer, item_type, pks))
            if there:
                _extend_group(installer, item_type, there, expires, activation)


def _extend_group(installer, item_type: str, ids: list[int], expires, activate: bool) -> None:
    if item_type == ItemType.APP:
        subscriptions_extend(actor=installer, resident_ids=ids, expires_at=expires, activate=activate)
    elif item_type == ItemType.PM_APP:
        pm_app_subscriptions_extend(
            actor=installer, assignment_ids=ids, expires_at=expires, activate=activate
        )
    else:
        premium_plans_extend(actor=installer, community_ids=ids, expires_at=expires)


def _still_there(installer, item_type: str, pks: set[int]) -> set[int]:
    """Of the ids wanted, those the apps' services will accept."""
    querysets = {
        ItemType.APP: Resident.objects.for_actor(installer, roles.CHANGE).filter(family_master__isnull=True),
        ItemType.PM_APP: PropertyManagerAssignment.objects.for_actor(installer, roles.CHANGE),
        ItemType.PREMIUM: Community.objects.for_actor(installer, roles.CHANGE).filter(
            feature_plan=FeaturePlan.PREMIUM
        ),
    }
    return set(querysets[item_type].filter(pk__in=pks).values_list("pk", flat=True))
