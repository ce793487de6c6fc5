"""Layout context owned by communities: the top bar's community switcher and the Home Automation link.

Listed in TEMPLATES after `smartplus.context_processors.portal` (which knows no app).
"""

from __future__ import annotations

from django.urls import reverse

from smartplus import roles
from smartplus.context_processors import once_per_request

from .models import Community
from .selectors import SWITCHER_LIMIT, community_switcher


@once_per_request
def communities(request) -> dict:
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
