"""pmportal's blocks of the dashboard (registered in communities.hooks.dashboard_panels):
a property manager's card per assigned community, an installer's fleet overview."""

from __future__ import annotations

from communities.hooks import Panel
from logs.selectors import recent_door_events_by_community
from smartplus import roles

from .selectors import fleet_overview

INSTALLER_ROLES = frozenset({roles.INSTALLER, roles.SUB_INSTALLER})


def dashboard_panel(actor) -> Panel | None:
    role = roles.role_of(actor)
    if role == roles.PROPERTY_MANAGER:
        overview = fleet_overview(actor=actor, per_community=True)
        events = recent_door_events_by_community(actor, [card.pk for card in overview.cards])
        for card in overview.cards:
            card.door_events = events.get(card.pk)  # None: no Log Access Control here
        return Panel("pmportal/_pm_cards.html", {"overview": overview})
    if role in INSTALLER_ROLES:
        return Panel("pmportal/_fleet_overview.html", {"overview": fleet_overview(actor=actor)})
    return None
