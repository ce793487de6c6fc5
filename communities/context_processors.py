"""Layout context owned by communities: the top bar's community switcher and the Home Automation link.

Listed in TEMPLATES after `smartplus.context_processors.portal` (which knows no app).
"""

from __future__ import annotations

from django.urls import reverse

from smartplus import roles

from .models import Community
from .selectors import SWITCHER_LIMIT, community_switcher


def communities(request) -> dict:
    # Computed once per request, as the portal context is: django-tables2 renders every
    # TemplateColumn cell with the request's context processors.
    cached = getattr(request, "_communities_context", None)
    if cached is None:
        cached = request._communities_context = _communities(request)
    return cached


def _communities(request) -> dict:
    actor = getattr(request, "actor", None)
    if actor is None or not actor.is_authenticated:
        return {}
    rows = community_switcher(actor=actor) if roles.allows(actor, "communities.community", "view") else []
    # One reverse() for the whole list instead of one {% url %} per entry.
    # The switcher opens a community at its Resident and Device page, as the spec's list does.
    detail = reverse("residents:community_residents", args=[987654321])
    switcher = [(detail.replace("987654321", str(pk)), name) for pk, name in rows[:SWITCHER_LIMIT]]
    return {
        "switcher_communities": switcher,
        "switcher_more": len(rows) > SWITCHER_LIMIT,
        "nav_home_automation": bool(rows)
        and Community.objects.for_actor(actor).filter(home_automation=True).exists(),
    }
