"""Reads of communities for the dashboard and the community switcher."""

from __future__ import annotations

from django.db.models import Prefetch

from accounts.models import PropertyManagerAssignment

from .models import Community


def community_list(*, actor):
    """The actor's communities with the dashboard's counts, in a constant number of queries."""
    return (
        Community.objects.for_actor(actor)
        # Device Count and End User Count are stored counters, kept by the devices and residents
        # services, so the dashboard never counts devices.
        .prefetch_related(
            Prefetch(
                "pm_assignments",
                queryset=PropertyManagerAssignment.objects.select_related("property_manager").order_by(
                    "property_manager__first_name", "property_manager__last_name"
                ),
            )
        )
    )


SWITCHER_LIMIT = 50


def community_switcher(*, actor) -> list[tuple[int, str]]:
    """The first communities by name for the top bar's "List Of Communities"; the dashboard has the rest."""
    return list(
        Community.objects.for_actor(actor).order_by("name").values_list("pk", "name")[: SWITCHER_LIMIT + 1]
    )


def community_names_by_manager(*, property_manager_ids) -> dict[int, list[str]]:
    """Names of the communities each property manager is assigned to, in one light query."""
    names: dict[int, list[str]] = {pk: [] for pk in property_manager_ids}
    rows = (
        PropertyManagerAssignment.objects.filter(property_manager_id__in=property_manager_ids)
        .order_by("community__name")
        .values_list("property_manager_id", "community__name")
    )
    for pm_id, name in rows:
        names[pm_id].append(name)
    return names
