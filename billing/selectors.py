"""What the Subscriptions pages list: the accounts, property manager apps and Premium plans an
actor may activate or renew, each as one row keyed "type:id" ("app:12", "pm_app:3").

Everything starts from the actor's scoped querysets; only the communities whose Charge Mode makes
the actor the payer are listed (Pay By Installer: installer and sub-installers; Pay By PM: its
property managers). billing.services checks all of it again when the order is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext

from accounts.models import PropertyManagerAssignment
from communities.choices import ChargeMode, FeaturePlan, Integration
from communities.models import Community
from residents.models import Resident
from smartplus import roles, scoping

from . import pricing
from .choices import ItemType, ServiceType
from .models import Order
from .services import Item

ACTIVATE, RENEW = "active", "renew"


@dataclass(frozen=True)
class Row:
    key: str
    item_type: str
    community: str
    building: str
    apt: str
    apt_name: str
    email: str
    name: str
    expires_at: datetime | None
    integrated: bool = False  # the community is synchronised from Rent Manager

    @property
    def type_label(self) -> str:
        return ItemType(self.item_type).label

    @property
    def service_type(self) -> str:
        return (ServiceType.INTEGRATION if self.integrated else ServiceType.NORMAL).label


def paid_charge_mode(actor) -> str:
    """The Charge Mode of the communities `actor` pays for."""
    if roles.role_of(actor) == roles.PROPERTY_MANAGER:
        return ChargeMode.PAY_BY_PM
    return ChargeMode.PAY_BY_INSTALLER


def may_pay(actor, order: Order) -> bool:
    """Whether `actor` is on the paying side of `order` (the other side sees it read-only)."""
    if not roles.allows(actor, Order, "pay"):
        return False
    return order.charge_mode == paid_charge_mode(actor)


def fees(actor, mode: str) -> dict[str, int]:
    """What each item type costs the actor's installer: Activate shows the activation price,
    Renew the monthly fee (the renewal itself is pro rata to Renew To)."""
    from accounts.models import User

    prices = pricing.price_list_for(User.objects.get(pk=scoping.member_installer_id(actor)))
    if mode == ACTIVATE:
        return {kind: pricing.activation_price(prices, kind) for kind in ItemType.values}
    return {kind: pricing.monthly_fee(prices, kind) for kind in ItemType.values}


def payable_communities(actor):
    return Community.objects.for_actor(actor).filter(charge_mode=paid_charge_mode(actor))


def parse_keys(raw: str) -> list[Item]:
    """ "app:12,pm_app:3" -> Items; ValueError on anything else."""
    items = []
    for part in (raw or "").split(","):
        part = part.strip()
        if not part:
            continue
        kind, _, pk = part.partition(":")
        if kind not in ItemType.values or not pk.isdigit():
            raise ValueError(part)
        items.append(Item(kind, int(pk)))
    return items


def _querysets(actor, mode: str, community_id: int | None, item_type: str, only=None):
    """The filter's querysets per item type; `only` (Items) narrows them to those items (an
    email's link to the Renew step names the accounts it is about)."""
    communities = payable_communities(actor)
    if community_id:
        communities = communities.filter(pk=community_id)
    ids = communities.values("pk")
    renew = mode == RENEW
    out = {}
    if item_type in ("", ItemType.APP):
        out[ItemType.APP] = Resident.objects.for_actor(actor).filter(
            family_master__isnull=True, community__in=ids, activated=renew
        )
    if item_type in ("", ItemType.PM_APP):
        out[ItemType.PM_APP] = PropertyManagerAssignment.objects.filter(
            community__in=ids, app_enabled=True, app_activated=renew
        )
    if item_type in ("", ItemType.PREMIUM):
        out[ItemType.PREMIUM] = communities.filter(
            feature_plan=FeaturePlan.PREMIUM, plan_expires_at__isnull=not renew
        )
    if only is not None:
        wanted: dict[str, list[int]] = {}
        for item in only:
            wanted.setdefault(item.item_type, []).append(item.pk)
        out = {kind: qs.filter(pk__in=wanted[kind]) for kind, qs in out.items() if kind in wanted}
    return out


def matching_items(actor, mode: str, community_id=None, item_type: str = "", only=None) -> list[Item]:
    """Every item the filter matches (the "select all" of a filter), by id only."""
    items = []
    for kind, qs in _querysets(actor, mode, community_id, item_type, only).items():
        items.extend(Item(kind, pk) for pk in qs.order_by("pk").values_list("pk", flat=True))
    return items


def matching_count(actor, mode: str, community_id=None, item_type: str = "", only=None) -> int:
    return sum(qs.count() for qs in _querysets(actor, mode, community_id, item_type, only).values())


SORTS = {"apt": "apt", "-apt": "apt", "apt_name": "apt_name", "-apt_name": "apt_name"}


def rows(
    actor, mode: str, community_id=None, item_type: str = "", sort: str = "", limit: int = 500, only=None
):
    """Up to `limit` rows of the filter, family masters first in APT order (or `sort`)."""
    found = _querysets(actor, mode, community_id, item_type, only)
    out: list[Row] = []
    if ItemType.APP in found:
        order = {
            "apt": ("apartment__number", "pk"),
            "-apt": ("-apartment__number", "-pk"),
            "apt_name": ("apartment__name", "pk"),
            "-apt_name": ("-apartment__name", "-pk"),
        }.get(sort, ("community__name", "apartment__building__name", "apartment__number", "pk"))
        qs = found[ItemType.APP].select_related("community", "apartment__building").order_by(*order)
        for r in qs[:limit]:
            out.append(
                Row(
                    f"{ItemType.APP}:{r.pk}",
                    ItemType.APP,
                    r.community.name,
                    r.apartment.building.name,
                    r.apartment.number,
                    r.apartment.name,
                    r.email,
                    r.display_name,
                    r.expires_at,
                    r.community.integration != Integration.NONE,
                )
            )
    if ItemType.PM_APP in found:
        qs = found[ItemType.PM_APP].select_related("community", "property_manager")
        for a in qs.order_by("community__name", "pk")[:limit]:
            pm = a.property_manager
            out.append(
                Row(
                    f"{ItemType.PM_APP}:{a.pk}",
                    ItemType.PM_APP,
                    a.community.name,
                    "",
                    "",
                    "",
                    pm.email,
                    pm.get_full_name() or pm.username,
                    a.app_expires_at,
                    a.community.integration != Integration.NONE,
                )
            )
    if ItemType.PREMIUM in found:
        for c in found[ItemType.PREMIUM].order_by("name", "pk")[:limit]:
            out.append(
                Row(
                    f"{ItemType.PREMIUM}:{c.pk}",
                    ItemType.PREMIUM,
                    c.name,
                    "",
                    "",
                    "",
                    "",
                    gettext("%(community)s Premium Plan") % {"community": c.name},
                    c.plan_expires_at,
                    c.integration != Integration.NONE,
                )
            )
    return out[:limit]
