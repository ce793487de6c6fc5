"""Reads of the property manager's portal: the Premium controls' state, the dashboard cards and
the installer's fleet overview. Every read starts from `for_actor`; the dashboard costs the same
few queries whatever the number of communities."""

from __future__ import annotations

from collections import defaultdict
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
ATTENTION_ROWS = 10
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
    """One community of the dashboard (`community` is loaded for a property manager's cards)."""

    pk: int
    name: str
    community: Community | None = None
    apartments: int = 0
    end_users: int = 0
    online: int = 0
    offline: int = 0
    expiring: int = 0
    expiry_buckets: list[int] = field(default_factory=lambda: [0] * EXPIRY_BUCKETS)
    premium_refusal: str | None = None
    # The latest door events (a PM's card); None without Log Access Control.
    door_events: list | None = None

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

    @property
    def attention(self) -> list[Card]:
        """The communities to look at first: offline devices, then accounts expiring soon."""
        flagged = [c for c in self.cards if c.offline or c.expiring]
        flagged.sort(key=lambda c: (-c.offline, -c.expiring, c.name, c.pk))
        return flagged[:ATTENTION_ROWS]


def fleet_overview(*, actor, per_community: bool = False) -> Overview:
    """Over the actor's communities: devices online / offline and their firmware versions per
    model, and family masters whose app subscription ends within 30 days (by week), per
    community. `per_community` (a property manager's cards) also loads each community, with
    its apartment and end-user counters, and lists the ones without devices too. Two queries
    (three with `per_community`), whatever the number of communities."""
    now = timezone.now()
    cards: dict[int, Card] = {}
    if per_community:
        for c in Community.objects.for_actor(actor).order_by("name", "pk"):
            cards[c.pk] = Card(
                c.pk, c.name, c, c.apartment_count, c.end_user_count, premium_refusal=plan_refusal(c, now)
            )

    def card_of(pk: int, name: str) -> Card:
        if pk not in cards:
            cards[pk] = Card(pk, name)
        return cards[pk]

    cutoff = _online_cutoff(now)
    versions: dict[tuple[str, str], int] = defaultdict(int)
    rows = (
        Device.objects.for_actor(actor)
        .values("community_id", "community__name", "model", "firmware_version")
        .annotate(total=Count("pk"), online=Count("pk", filter=Q(last_seen_at__gte=cutoff)))
        .order_by()
    )
    for row in rows:
        card = card_of(row["community_id"], row["community__name"])
        card.online += row["online"]
        card.offline += row["total"] - row["online"]
        if row["firmware_version"]:
            versions[(row["model"] or "?", row["firmware_version"])] += row["total"]
    soon = (
        Resident.objects.for_actor(actor)
        .filter(
            family_master__isnull=True,
            activated=True,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=EXPIRING_DAYS),
        )
        .annotate(day=TruncDate("expires_at"))
        .values("community_id", "community__name", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    today = now.date()
    for row in soon:
        card = card_of(row["community_id"], row["community__name"])
        card.expiring += row["n"]
        bucket = min(max((row["day"] - today).days - 1, 0) // 7, EXPIRY_BUCKETS - 1)
        card.expiry_buckets[bucket] += row["n"]
    firmware = [{"model": m, "version": v, "count": n} for (m, v), n in sorted(versions.items())]
    ordered = (
        sorted(cards.values(), key=lambda c: (c.name, c.pk)) if not per_community else list(cards.values())
    )
    return Overview(cards=ordered, firmware=firmware)


def app_community_settings(*, resident) -> dict:
    """What the SmartPlus app of `resident` (an authenticated end user, not an actor) reads of
    its community's Premium controls. Under Basic, or without Premium in force, end users cannot
    watch the public area's third-party cameras (the spec); the other switches keep their state."""
    community = resident.community
    row = PremiumControl.objects.filter(community_id=community.pk).first() or PremiumControl(
        community=community
    )
    in_force = plan_refusal(community) is None
    flags = {c.key: getattr(row, c.key) for c in CONTROLS}
    if not in_force:
        flags["public_camera_viewing"] = False
    return {
        "community": community.name,
        "feature_plan": community.feature_plan,
        "premium_in_force": in_force,
        **flags,
    }
