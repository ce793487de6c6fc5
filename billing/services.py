"""Orders and coupons: every rule of what may be bought, by whom, at what price.

An order's items and amounts are fixed here, when it is created; paying it (billing.checkout)
and extending its accounts (billing.fulfilment) only follow what is stored. Who may pay a
community's items is its Charge Mode's: "Pay By Installer" (the default) the installer and
sub-installers, "Pay By PM" its property managers; the other side sees the orders read-only.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PropertyManagerAssignment
from communities.choices import ChargeMode, FeaturePlan
from communities.models import Community
from residents.models import Resident
from smartplus import audit, authz, roles, scoping
from smartplus.models import AuditAction

from . import pricing
from .choices import (
    FINAL_STATUSES,
    STATUS_RANK,
    CouponKind,
    CouponScope,
    ItemType,
    OrderStatus,
    OrderType,
)
from .models import Coupon, Order, OrderCount, OrderItem

NOT_FOUND = _(
    "Some of the selected items no longer exist or are not yours: reload the list and select again."
)
COUPON_INVALID = _("This coupon number is not valid.")


@dataclass(frozen=True)
class Item:
    """One thing to pay for: an end user's app (a family master, by Resident id), a property
    manager's app (by PropertyManagerAssignment id) or a community's Premium Plan (by id)."""

    item_type: str
    pk: int


def _installer_of(actor):
    from accounts.models import User

    installer_id = scoping.member_installer_id(actor)
    if installer_id is None:
        raise PermissionDenied
    return actor if installer_id == actor.pk else User.objects.get(pk=installer_id)


def _payer_side_refusal(actor, community: Community) -> str:
    """Why `actor` may not pay this community's items (its Charge Mode), or ""."""
    by_pm = community.charge_mode == ChargeMode.PAY_BY_PM
    if by_pm and roles.role_of(actor) != roles.PROPERTY_MANAGER:
        return gettext("%(community)s is paid by its property manager (Charge Mode: Pay By PM).") % {
            "community": community.name
        }
    if not by_pm and roles.role_of(actor) == roles.PROPERTY_MANAGER:
        return gettext("%(community)s is paid by its installer (Charge Mode: Pay By Installer).") % {
            "community": community.name
        }
    return ""


def _load(actor, items: Sequence[Item]) -> list[tuple[Item, object, Community]]:
    """Each item's object and community, all of them the actor's (or ValidationError)."""
    wanted: dict[str, list[int]] = {}
    for item in items:
        wanted.setdefault(item.item_type, []).append(item.pk)
    communities = Community.objects.for_actor(actor)
    found: dict[tuple[str, int], tuple[object, Community]] = {}
    if ItemType.APP in wanted:
        rows = (
            Resident.objects.for_actor(actor)
            .filter(pk__in=wanted[ItemType.APP], family_master__isnull=True)
            .select_related("community", "apartment__building")
        )
        found.update({(ItemType.APP, r.pk): (r, r.community) for r in rows})
    if ItemType.PM_APP in wanted:
        rows = PropertyManagerAssignment.objects.filter(
            pk__in=wanted[ItemType.PM_APP], app_enabled=True, community__in=communities.values("pk")
        ).select_related("community", "property_manager")
        found.update({(ItemType.PM_APP, a.pk): (a, a.community) for a in rows})
    if ItemType.PREMIUM in wanted:
        rows = communities.filter(pk__in=wanted[ItemType.PREMIUM], feature_plan=FeaturePlan.PREMIUM)
        found.update({(ItemType.PREMIUM, c.pk): (c, c) for c in rows})
    loaded = []
    for item in items:
        if (item.item_type, item.pk) not in found:
            raise authz.NotFound(NOT_FOUND)  # another tenant's id and a deleted one alike
        loaded.append((item, *found[(item.item_type, item.pk)]))
    return loaded


def _state(item_type: str, obj) -> tuple[bool, object]:
    """(activated, expires_at) of an item's object."""
    if item_type == ItemType.APP:
        return obj.activated, obj.expires_at
    if item_type == ItemType.PM_APP:
        return obj.app_activated, obj.app_expires_at
    return obj.plan_expires_at is not None, obj.plan_expires_at


def _snapshot(item_type: str, obj, community: Community) -> dict:
    if item_type == ItemType.APP:
        return {
            "resident": obj,
            "building": obj.apartment.building.name,
            "apt": obj.apartment.number,
            "apt_name": obj.apartment.name,
            "email": obj.email,
            "name": obj.display_name,
        }
    if item_type == ItemType.PM_APP:
        pm = obj.property_manager
        return {"assignment": obj, "email": pm.email, "name": pm.get_full_name() or pm.username}
    return {"name": f"{community.name} Premium Plan"}


def _label(item_type: str, obj, community: Community) -> str:
    if item_type == ItemType.APP:
        return gettext("APT %(apt)s of %(community)s") % {
            "apt": obj.apartment.number,
            "community": community.name,
        }
    if item_type == ItemType.PM_APP:
        return gettext("The property manager app of %(pm)s in %(community)s") % {
            "pm": obj.property_manager,
            "community": community.name,
        }
    return gettext("The Premium Plan of %(community)s") % {"community": community.name}


def _new_number() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)  # 16 digits, as the spec's numbers


@transaction.atomic
def order_create(*, actor, order_type: str, items: Sequence[Item], renew_to=None) -> Order:
    """A Processing order for `items`, priced now. Activation: items not active yet, each bought
    for the price list's months from the day it is paid. Renew: active or expired items, each up
    to the date `renew_to` (at most SMARTPLUS_RENEW_MAX_YEARS ahead)."""
    authz.require_role(actor, roles.ADD, Order)
    if order_type not in (OrderType.ACTIVATION, OrderType.RENEW):
        raise ValidationError(_("Choose Activation or Renew."))
    items = list(items)
    limit = settings.SMARTPLUS_ORDER_MAX_ITEMS
    if not items:
        raise ValidationError(_("Select at least one item."))
    if len(items) > limit:
        raise ValidationError(
            gettext("At most %(limit)s items at a time: %(count)s are selected.")
            % {"limit": f"{limit:,}", "count": f"{len(items):,}"}
        )
    if len(set(items)) != len(items):
        raise ValidationError(_("An item is selected twice."))
    now = timezone.now()
    if order_type == OrderType.RENEW:
        if renew_to is None:
            raise ValidationError({"renew_to": _("Choose the date to renew to.")})
        if renew_to > pricing.latest_renew_to(now).date():
            years = settings.SMARTPLUS_RENEW_MAX_YEARS
            raise ValidationError(
                {"renew_to": gettext("Renew To can be at most %(years)s years ahead.") % {"years": years}}
            )
    installer = _installer_of(actor)
    prices = pricing.price_list_for(installer)
    loaded = _load(actor, items)
    errors, rows, communities = [], [], {}
    for item, obj, community in loaded:
        communities[community.pk] = community
        refusal = _payer_side_refusal(actor, community)
        if refusal:
            errors.append(refusal)
            continue
        activated, expires_at = _state(item.item_type, obj)
        label = _label(item.item_type, obj, community)
        fields = {"item_type": item.item_type, "community": community, "community_name": community.name}
        fields |= _snapshot(item.item_type, obj, community)
        if order_type == OrderType.ACTIVATION:
            if activated:
                errors.append(gettext("%(item)s is already activated: renew it instead.") % {"item": label})
                continue
            fields |= {
                "amount": pricing.activation_price(prices, item.item_type),
                "months": prices.activation_months,
                "expires_before": expires_at,
            }
        else:
            if not activated:
                errors.append(gettext("%(item)s is not activated yet: activate it first.") % {"item": label})
                continue
            until = pricing.renew_to_datetime(renew_to, community.time_zone)
            days = pricing.renewal_days(expires_at, until, now)
            if days <= 0:
                errors.append(
                    gettext("%(item)s is already paid until %(date)s: choose a later Renew To.")
                    % {"item": label, "date": f"{expires_at:%Y-%m-%d}"}
                )
                continue
            fields |= {
                "amount": pricing.renewal_price(prices, item.item_type, days),
                "days": days,
                "expires_before": expires_at,
                "expires_after": until,
            }
        rows.append(fields)
    if errors:
        unique = list(dict.fromkeys(errors))
        more = gettext("(and %(n)s more)") % {"n": len(unique) - 5} if len(unique) > 5 else ""
        raise ValidationError([*unique[:5], *([more.strip()] if more else [])])
    subtotal = sum(r["amount"] for r in rows)
    only = next(iter(communities.values())) if len(communities) == 1 else None
    order = Order(
        installer=installer,
        community=only,
        charge_mode=only.charge_mode if only else ChargeMode.PAY_BY_INSTALLER,
        payer=actor,
        payer_name=actor.get_username(),
        order_type=order_type,
        currency=settings.SMARTPLUS_CURRENCY,
        subtotal=subtotal,
        total=subtotal,
        renew_to=renew_to if order_type == OrderType.RENEW else None,
        apartment_count=len({r["resident"].apartment_id for r in rows if "resident" in r}),
        item_count=len(rows),
    )
    for _attempt in range(5):
        order.number = _new_number()
        try:
            with transaction.atomic():
                order.save()
            break
        except IntegrityError:
            continue  # a number already taken: draw again
    OrderItem.objects.bulk_create(OrderItem(order=order, **r) for r in rows)
    _tally(order, +1)
    audit.record(action=AuditAction.CREATE, instance=order)
    return order


def _tally(order: Order, delta: int) -> None:
    """Keep the Payments list's stored count (OrderCount) with the order's own write."""
    key = {
        "installer_id": order.installer_id,
        "community_id": order.community_id,
        "charge_mode": order.charge_mode,
    }
    if OrderCount.objects.filter(**key).update(count=F("count") + delta):
        return
    try:
        with transaction.atomic():
            OrderCount.objects.create(count=delta, **key)
    except IntegrityError:  # made meanwhile by another order of the same key
        OrderCount.objects.filter(**key).update(count=F("count") + delta)


def listed_order_count(actor, community=None) -> int:
    """The number of orders the Payments list shows the actor, unfiltered, from OrderCount."""
    rows = OrderCount.objects.all()
    installer_id = scoping.tenant_installer_id(actor)
    if installer_id is not None:
        rows = rows.filter(installer_id=installer_id)
    elif roles.role_of(actor) in roles.ASSIGNED_ROLES:
        rows = rows.filter(
            community__in=scoping.visible_community_ids(actor), charge_mode=ChargeMode.PAY_BY_PM
        )
    elif roles.role_of(actor) != roles.SUPER_MANAGER:
        return 0
    if community is not None:
        rows = rows.filter(community=community)
    return rows.aggregate(total=Sum("count"))["total"] or 0


# --- coupons -------------------------------------------------------------------------------------


def _coupon_refusal(coupon: Coupon, order: Order, now) -> str:
    if now < coupon.valid_from:
        return gettext("This coupon is valid from %(time)s.") % {
            "time": f"{coupon.valid_from:%Y-%m-%d %H:%M}"
        }
    if now >= coupon.valid_until:
        return gettext("This coupon has expired.")
    if coupon.used_up or (coupon.kind == CouponKind.AMOUNT and coupon.balance == 0):
        return gettext("This coupon has been used up.")
    if coupon.reserved_by_id and coupon.reserved_by_id != order.pk:
        return gettext("This coupon is held by another order waiting for payment: one order at a time.")
    wanted = {OrderType.ACTIVATION: CouponScope.ACTIVATION, OrderType.RENEW: CouponScope.RENEW}
    if coupon.scope != CouponScope.ALL and coupon.scope != wanted.get(order.order_type):
        return gettext("This coupon pays only for the %(scope)s.") % {"scope": coupon.get_scope_display()}
    return ""


def _coupon_amount(coupon: Coupon, subtotal: int) -> int:
    if coupon.kind == CouponKind.PERCENT:
        return subtotal * coupon.percent_off // 100
    return min(coupon.balance, subtotal)


def _payable(actor, order: Order) -> Order:
    """The order, locked, if `actor` may pay it and it waits for payment."""
    order = authz.get_for_actor(Order, actor, order.pk, "pay", lock=True)
    refusal = _payer_side_refusal(actor, order.community) if order.community_id else ""
    if refusal:
        raise ValidationError(refusal)
    if order.status != OrderStatus.PROCESSING:
        raise ValidationError(
            gettext("This order is %(status)s: it cannot be paid.") % {"status": order.get_status_display()}
        )
    return order


@transaction.atomic
def order_apply_coupon(*, actor, order: Order, code: str) -> Order:
    """Use one of the installer's redeemed coupons on the order (one per order): reserved until
    the order succeeds (consumed) or fails, times out or is cancelled (released)."""
    order = _payable(actor, order)
    if order.stripe_session_id:
        raise ValidationError(_("The payment has started: cancel it to change the coupon."))
    coupon = Coupon.objects.for_actor(actor).select_for_update().filter(code=(code or "").strip()).first()
    if coupon is None:
        raise ValidationError(
            {"code": _("This coupon is not yours or does not exist: redeem it with Exchange Coupon first.")}
        )
    refusal = _coupon_refusal(coupon, order, timezone.now())
    if refusal:
        raise ValidationError({"code": refusal})
    _release(order)
    coupon.reserved_by = order
    coupon.save(update_fields=["reserved_by", "modified"])
    order.coupon, order.coupon_code = coupon, coupon.code
    order.coupon_amount = _coupon_amount(coupon, order.subtotal)
    order.total = order.subtotal - order.coupon_amount
    order.save(update_fields=["coupon", "coupon_code", "coupon_amount", "total", "modified"])
    return order


@transaction.atomic
def order_drop_coupon(*, actor, order: Order) -> Order:
    """Don't Use Coupon."""
    order = _payable(actor, order)
    if order.stripe_session_id:
        raise ValidationError(_("The payment has started: cancel it to change the coupon."))
    _release(order)
    order.coupon, order.coupon_code, order.coupon_amount, order.total = None, "", 0, order.subtotal
    order.save(update_fields=["coupon", "coupon_code", "coupon_amount", "total", "modified"])
    return order


def _release(order: Order) -> None:
    Coupon.objects.filter(reserved_by=order).update(reserved_by=None, modified=timezone.now())


def _consume(order: Order) -> None:
    """The order succeeded: its coupon pays what it promised."""
    if not order.coupon_id:
        return
    coupon = Coupon.objects.select_for_update().get(pk=order.coupon_id)
    if coupon.kind == CouponKind.AMOUNT:
        coupon.balance = max(0, coupon.balance - order.coupon_amount)
        coupon.used_up = coupon.balance == 0
    else:
        coupon.used_up = True
    coupon.reserved_by = None
    coupon.save(update_fields=["balance", "used_up", "reserved_by", "modified"])


@transaction.atomic
def coupon_redeem(*, actor, code: str) -> Coupon:
    """Exchange Coupon: the code becomes the installer's. One answer for a code that does not
    exist and one another installer redeemed, so codes cannot be probed."""
    authz.require_role(actor, "redeem", Coupon)
    installer = _installer_of(actor)
    coupon = Coupon.objects.select_for_update().filter(code=(code or "").strip()).first()
    if coupon is None or (coupon.installer_id and coupon.installer_id != installer.pk):
        raise ValidationError({"code": COUPON_INVALID})
    if coupon.installer_id == installer.pk:
        raise ValidationError({"code": _("You have already redeemed this coupon.")})
    if timezone.now() >= coupon.valid_until:
        raise ValidationError({"code": _("This coupon has expired.")})
    coupon.installer, coupon.redeemed_at = installer, timezone.now()
    coupon.save(update_fields=["installer", "redeemed_at", "modified"])
    return coupon


# --- status -------------------------------------------------------------------------------------------


def advance(order: Order, status: str, **fields) -> bool:
    """Move a locked order forward to `status` (never back: webhooks arrive out of order), with
    its coupon released on Failed / Time out / Cancel and consumed on Succeed. False when the
    order is already there or further."""
    if STATUS_RANK[status] <= STATUS_RANK[order.status]:
        return False
    order.status = status
    for name, value in fields.items():
        setattr(order, name, value)
    if status in FINAL_STATUSES:
        order.finished_at = timezone.now()
        if status == OrderStatus.SUCCEED:
            _consume(order)
        else:
            _release(order)
    order.save()
    return True


def order_delete(*, actor, order: Order) -> str:
    """Delete an order that did not succeed; a Succeed order is hidden from the list, its record
    stays. Returns "deleted" or "hidden". An order waiting for payment has its checkout closed
    first, so it cannot be paid after it is gone; if it was paid meanwhile it is fulfilled
    instead (committed) and the ValidationError says so."""
    from . import checkout

    just_paid = None
    with transaction.atomic():
        order = authz.get_for_actor(Order, actor, order.pk, roles.DELETE, lock=True)
        if order.status == OrderStatus.SUCCEED:
            if not order.hidden:
                order.hidden = True
                order.save(update_fields=["hidden", "modified"])
                _tally(order, -1)
            return "hidden"
        if order.status == OrderStatus.SYSTEM_PROCESSING:
            raise ValidationError(
                _("This order's payment is being processed: it can be deleted once it is final.")
            )
        try:
            if order.status == OrderStatus.PROCESSING and order.stripe_session_id:
                checkout.close_session(order)
        except checkout.JustPaid as exc:
            just_paid = exc
        else:
            _release(order)
            audit.record(action=AuditAction.DELETE, instance=order)
            _tally(order, -1)
            order.delete()
    if just_paid is not None:
        raise just_paid
    return "deleted"
