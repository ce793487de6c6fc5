"""Reads of the logs: a community's Door Log, Call History and Captured Images, seek-paged.

Lists never COUNT millions of rows and never OFFSET past them: a page is the `limit` rows
before (older) or after (newer) a cursor on (occurred_at, id), read from the index
(community, occurred_at desc, id desc). A PM reads only with Log Access Control (a predicate)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from accounts.models import PropertyManagerAssignment
from communities.models import Community
from smartplus import authz, roles

from .models import CallEvent, CapturedImage, DoorEvent

LOG_MODELS = {"door": DoorEvent, "call": CallEvent, "image": CapturedImage}


def community_for_logs(*, actor, community_pk, model) -> Community:
    """The actor's community whose `model` logs it may read, or NotFound: another tenant's
    community, and a PM's without Log Access Control, are both "not found"."""
    community = authz.get_for_actor(Community, actor, community_pk)
    try:
        authz.authorize(actor, roles.VIEW, model, parent=community)
    except PermissionDenied as exc:
        raise authz.NotFound from exc
    return community


@dataclass(frozen=True)
class Cursor:
    occurred_at: dt.datetime
    pk: int

    def encode(self) -> str:
        return f"{self.occurred_at.timestamp():.6f}_{self.pk}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        try:
            stamp, pk = (raw or "").split("_")
            return cls(dt.datetime.fromtimestamp(float(stamp), tz=dt.UTC), int(pk))
        except (ValueError, OverflowError, OSError):
            return None


@dataclass
class Page:
    rows: list = field(default_factory=list)
    older: str | None = None  # cursor of the next (older) page
    newer: str | None = None  # cursor of the previous (newer) page


def _older_than(c: Cursor) -> Q:
    # The leading `lte` is the index range; the OR breaks ties on the same instant by id.
    return Q(occurred_at__lte=c.occurred_at) & (Q(occurred_at__lt=c.occurred_at) | Q(pk__lt=c.pk))


def _newer_than(c: Cursor) -> Q:
    return Q(occurred_at__gte=c.occurred_at) & (Q(occurred_at__gt=c.occurred_at) | Q(pk__gt=c.pk))


def log_queryset(*, actor, community: Community, model, filters: dict | None = None):
    """The community's rows of `model` under the filters (date range, device, APT, method,
    result), newest first: the page's and the export's queryset."""
    qs = model.objects.for_actor(actor).filter(community_id=community.pk)
    filters = filters or {}
    if filters.get("start"):
        qs = qs.filter(occurred_at__gte=filters["start"])
    if filters.get("end"):
        qs = qs.filter(occurred_at__lt=filters["end"])
    if filters.get("device"):
        qs = qs.filter(device_id=filters["device"].pk)
    if filters.get("apartment"):
        qs = qs.filter(apartment_id=filters["apartment"].pk)
    if model is DoorEvent:
        if filters.get("method"):
            qs = qs.filter(method=filters["method"])
        if filters.get("result"):
            qs = qs.filter(result=filters["result"])
    if model is CallEvent and filters.get("answered") in ("yes", "no"):
        qs = qs.filter(answered=filters["answered"] == "yes")
    # The APT's number is a column: one join on the page's rows, not one query per row.
    qs = qs.select_related("apartment")
    return qs.order_by("-occurred_at", "-pk")


def log_page(*, queryset, limit: int, older: str | None = None, newer: str | None = None) -> Page:
    """One seek page of `queryset` (ordered newest first): one query of limit + 1 rows."""
    after, before = Cursor.decode(newer), Cursor.decode(older)
    if after is not None:
        rows = list(queryset.filter(_newer_than(after)).order_by("occurred_at", "pk")[: limit + 1])
        more_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        page = Page(rows=rows)
        page.newer = Cursor(rows[0].occurred_at, rows[0].pk).encode() if rows and more_newer else None
        page.older = Cursor(rows[-1].occurred_at, rows[-1].pk).encode() if rows else None
        return page
    if before is not None:
        queryset = queryset.filter(_older_than(before))
    rows = list(queryset[: limit + 1])
    more_older = len(rows) > limit
    rows = rows[:limit]
    page = Page(rows=rows)
    page.older = Cursor(rows[-1].occurred_at, rows[-1].pk).encode() if rows and more_older else None
    page.newer = Cursor(rows[0].occurred_at, rows[0].pk).encode() if rows and before is not None else None
    return page


def log_access_community_ids(actor):
    """The communities whose logs the actor reads, as a subquery (None: every one the scope
    gives): for a PM, the assignments with Log Access Control (the predicate's rule, in one
    query instead of one per community)."""
    if roles.is_assigned(actor):
        return PropertyManagerAssignment.objects.filter(
            property_manager_id=actor.pk, log_access_control=True
        ).values("community_id")
    return None


def recent_door_events(actor, communities, limit: int = 10) -> list[DoorEvent]:
    """The latest door events of these communities that the actor may read: one query (the
    dashboard's "recent door events")."""
    ids = [c.pk if isinstance(c, Community) else c for c in communities]
    qs = DoorEvent.objects.for_actor(actor).filter(community_id__in=ids)
    allowed = log_access_community_ids(actor)
    if allowed is not None:
        qs = qs.filter(community_id__in=allowed)
    return list(qs.order_by("-occurred_at", "-pk")[:limit])


def recent_door_events_by_community(actor, community_ids, per: int = 3) -> dict[int, list[DoorEvent]]:
    """The latest `per` door events of each of these communities whose logs the actor reads
    (only those are keys: a PM's without Log Access Control are left out), in one query (two for
    a PM): a UNION ALL of one index range per community, never a window over every event."""
    ids = list(dict.fromkeys(community_ids))
    allowed = log_access_community_ids(actor)
    if allowed is not None:
        readable = set(allowed.values_list("community_id", flat=True))
        ids = [pk for pk in ids if pk in readable]
    found: dict[int, list[DoorEvent]] = {pk: [] for pk in ids}
    if not ids:
        return found
    base = DoorEvent.objects.for_actor(actor)
    parts = [base.filter(community_id=pk).order_by("-occurred_at", "-pk")[:per] for pk in ids]
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for event in rows:
        found[event.community_id].append(event)
    for events in found.values():
        events.sort(key=lambda e: (e.occurred_at, e.pk), reverse=True)
    return found
