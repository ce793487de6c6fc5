"""Reads of communities for the dashboard and the community switcher."""

from __future__ import annotations

from django.db.models import IntegerField, Prefetch, Value

from accounts.models import PropertyManagerAssignment

from .models import Community


def community_list(*, actor):
    """The actor's communities with the dashboard's counts, in a constant number of queries."""
    return (
        Community.objects.for_actor(actor)
        # #3 and #4 turn these into correlated subqueries once apartments and devices exist.
        .annotate(device_count=Value(0, IntegerField()), end_user_count=Value(0, IntegerField()))
        .prefetch_related(
            Prefetch(
                "pm_assignments",
                queryset=PropertyManagerAssignment.objects.select_related("property_manager").order_by(
                    "property_manager__first_name", "property_manager__last_name"
                ),
            )
        )
    )


def community_switcher(*, actor) -> list[tuple[int, str]]:
    return list(Community.objects.for_actor(actor).order_by("name").values_list("pk", "name")[:200])
