"""Reads of the property manager's portal: the Premium controls' state, the dashboard cards and
the installer's fleet overview. Every read starts from `for_actor`; the dashboard costs the same
few queries whatever the number of communities."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from devices.models import Device
from residents.models import Resident
from smartplus import authz, roles

from .controls import CONTROLS, plan_refusal
from .models import PremiumControl

EXPIRING_DAYS = 30
EXPIRY_BUCKETS = 5  # the chart's bars: days 1-7, 8-14, 15-21, 22-28, 29-30
BUCKET_LABELS = ("1-7", "8-14", "15-21", "22-28", "29-30")
BAR_HEIGHT = 32
NO_RIGHT = _("Only the community's installer and its property managers switch these.")


@dataclass(frozen=True)
class ControlState:
    key: str
    label: str
    help: str
    reaches: str
    enabled: bool
    refusal: str | None  # why the switch is disabled, or None


def premium_controls(*, actor, community: Community) -> list[ControlState]:
    """The five switches of the community's Premium controls page, each disabled with the reason
    where the actor may not switch it (the service refuses the same, whatever the page shows)."""
    authz.authorize(actor, roles.VIEW, community)
    row = PremiumControl.objects.filter(community=community).first() or PremiumControl(community=community)
    refusal = plan_refusal(community)
    if refusal is None and not roles.allows(actor, Community, "use_premium"):
        refusal = str(NO_RIGHT)
    return [
        ControlState(c.key, str(c.label), str(c.help), str(c.reaches), getattr(row, c.key), refusal)
        for c in CONTROLS
    ]


def _online_cutoff(now):
    """Online as `Device.status` says: a heartbeat within SMARTPLUS_DEVICE_OFFLINE_AFTER seconds."""
    return now - timedelta(seconds=settings.SMARTPLUS_DEVICE_OFFLINE_AFTER)


@dataclass
class Card:
    """One community of the dashboard."""

    community: Community
    apartments: int
    end_users: int
    online: int = 0
    offline: int = 0
    expiring: int = 0
    expiry_buckets: list[int] = field(default_factory=lambda: [0] * EXPIRY_BUCKETS)
    premium_refusal: str | None = None

    @property
    def devices(self) -> int:
        return self.online + self.offline

    @property
    def online_percent(self) -> int:
        return round(100 * self.online / self.devices) if self.devices else 0

    @property
    def expiry_bars(self) -> list[dict]:
        """The bars of the expiry chart (SVG units: 32 for the highest), with their labels."""
        top = max(self.expiry_buckets) or 1
        bars = []
        for i, (label, n) in enumerate(zip(BUCKET_LABELS, self.expiry_buckets, strict=True)):
            height = round(BAR_HEIGHT * n / top)
            bars.append(
                {"label": label, "count": n, "x": 4 + i * 20, "y": 4 + BAR_HEIGHT - height, "h": height}
            )
        return bars


@dataclass
class Overview:
    cards: list[Card]
    firmware: list[dict]  # {"model", "version", "count"}, by model then version

    @property
    def online(self) -> int:
        return sum(c.online for c in self.cards)

    @property
    def offline(self) -> int:
        return sum(c.offline for c in self.cards)

    @property
    def devices(self) -> int:
        return self.online + self.offline

    @property
    def online_percent(self) -> int:
        return round(100 * self.online / self.devices) if self.devices else 0

    @property
    def expiring(self) -> int:
        return sum(c.expiring for c in self.cards)


def fleet_overview(*, actor, firmware: bool = True) -> Overview:
    """Per community of the actor: apartments, end users, devices online / offline and family
    masters whose app subscription ends within 30 days (by week); and over all of them, the
    firmware versions per model. Four queries, whatever the number of communities."""
    now = timezone.now()
    communities = list(Community.objects.for_actor(actor).order_by("name", "pk"))
    cards = {
        c.pk: Card(c, c.apartment_count, c.end_user_count, premium_refusal=plan_refusal(c, now))
        for c in communities
    }
    cutoff = _online_cutoff(now)
    devices = Device.objects.for_actor(actor).filter(community__in=list(cards))
    for row in devices.values("community_id").annotate(
        total=Count("pk"), online=Count("pk", filter=Q(last_seen_at__gte=cutoff))
    ):
        card = cards[row["community_id"]]
        card.online, card.offline = row["online"], row["total"] - row["online"]
    soon = (
        Resident.objects.for_actor(actor)
        .filter(
            community__in=list(cards),
            family_master__isnull=True,
            activated=True,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=EXPIRING_DAYS),
        )
        .annotate(day=TruncDate("expires_at"))
        .values("community_id", "day")
        .annotate(n=Count("pk"))
    )
    today = now.date()
    for row in soon:
        card = cards[row["community_id"]]
        card.expiring += row["n"]
        bucket = min(max((row["day"] - today).days - 1, 0) // 7, EXPIRY_BUCKETS - 1)
        card.expiry_buckets[bucket] += row["n"]
    versions: list[dict] = []
    if firmware:
        rows = (
            devices.exclude(firmware_version="")
            .values("model", "firmware_version")
            .annotate(n=Count("pk"))
            .order_by("model", "firmware_version")
        )
        versions = [
            {"model": r["model"] or "?", "version": r["firmware_version"], "count": r["n"]} for r in rows
        ]
    return Overview(cards=list(cards.values()), firmware=versions)
