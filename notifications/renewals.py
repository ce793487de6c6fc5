"""The renewal email to end users when a renewal order succeeds (community switch "Send Renew Email
To End User"): one row per order and account, so exactly one email each.

How billing calls it: billing cannot import this app (it is above billing), so billing's
fulfilment sends `billing.signals.order_renewed` (sender=Order, order_id=...) from
`transaction.on_commit` once the order is Succeed; this app connects `on_order_renewed` to it in
its ready() (receivers.py). Calling `order_renewed(order_id)` directly (tests, a shell) is the same.
Called twice, or for an order that is not a Succeed renewal, it sends nothing more.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from billing.choices import ItemType, OrderStatus, OrderType
from billing.models import Order, OrderItem

from .choices import AccountType, Kind, Recipient, Status
from .models import Notification

logger = logging.getLogger(__name__)


def order_renewed(order_id: int) -> int:
    """Write the renewal rows of a Succeed renewal order and enqueue their emails; the number of
    new rows (0 when already done)."""
    order = Order.objects.filter(pk=order_id, status=OrderStatus.SUCCEED, order_type=OrderType.RENEW).first()
    if order is None:
        logger.info("order_renewed: order %s is not a Succeed renewal", order_id)
        return 0
    items = (
        OrderItem.objects.filter(
            order=order,
            item_type=ItemType.APP,
            community__send_renew_email=True,
            resident__family_master__isnull=True,
        )
        .exclude(resident__email="")
        .select_related("resident", "community")
    )
    now = timezone.now()
    rows = []
    for item in items:
        resident = item.resident
        email = resident.email.lower()
        rows.append(
            Notification(
                kind=Kind.RENEWAL,
                account_type=AccountType.APP,
                account_id=resident.pk,
                expires_at=item.expires_after or resident.expires_at,
                offset_days=0,
                recipient_email=email,
                recipient_role=Recipient.END_USER,
                language=resident.language or "en",
                reference=order.pk,
                community_id=item.community_id,
                installer_id=item.community.installer_id,
                local_day=now.date(),
                group_key=f"{Kind.RENEWAL}|{order.pk}|{resident.pk}|{email}",
                status=Status.PENDING,
                created=now,
            )
        )
    if not rows:
        return 0
    of_order = Notification.objects.filter(kind=Kind.RENEWAL, reference=order.pk)
    before = of_order.count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    created = of_order.count() - before
    # ignore_conflicts gives no ids: the heads are this order's rows not sent yet.
    heads = list(of_order.exclude(status=Status.SENT).values_list("pk", flat=True)) if created else []
    if heads:
        from smartplus.celery import fan_out

        from .sweep import CHUNK
        from .tasks import send_notifications

        chunks = [[heads[i : i + CHUNK]] for i in range(0, len(heads), CHUNK)]
        transaction.on_commit(lambda: fan_out(send_notifications, chunks))
    return created


def on_order_renewed(sender=None, order_id: int | None = None, **kwargs) -> None:
    if order_id is not None:
        order_renewed(order_id)
