"""Reads for the Resident and Device page. Every list runs a constant number of queries."""

from __future__ import annotations

import re

from django.db.models import F, FilteredRelation, Q

from communities.models import Building

from .models import Apartment, Resident


def _natural(name: str) -> list:
    """ "Building2" before "Building10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def buildings_of(*, actor, community) -> list[Building]:
    """The tree's buildings, in natural name order."""
    buildings = Building.objects.for_actor(actor).filter(community=community)
    return sorted(buildings, key=lambda b: (_natural(b.name), b.pk))


def apartment_list(*, actor, building):
    """A building's APTs with their family master's columns joined in (one query per page)."""
    return (
        Apartment.objects.for_actor(actor)
        .filter(building=building)
        .annotate(
            master=FilteredRelation("residents", condition=Q(residents__family_master__isnull=True)),
            master_id=F("master__id"),
            master_first_name=F("master__first_name"),
            master_last_name=F("master__last_name"),
            master_email=F("master__email"),
            master_country=F("master__country"),
            master_mobile_number=F("master__mobile_number"),
            master_activated=F("master__activated"),
            master_expires_at=F("master__expires_at"),
        )
    )


def resident_search(*, actor, community):
    """Every end user of the community (family masters and family members) with their APT."""
    return (
        Resident.objects.for_actor(actor)
        .filter(community=community)
        .select_related("apartment__building")
        .only(
            "pk",
            "created",
            "first_name",
            "last_name",
            "email",
            "activated",
            "expires_at",
            "app_registered_at",
            "family_master_id",
            "community_id",
            "apartment__id",
            "apartment__number",
            "apartment__floor",
            "apartment__name",
            "apartment__building__id",
            "apartment__building__name",
        )
    )


def apartment_detail(*, actor, pk: int):
    return Apartment.objects.for_actor(actor).select_related("building", "community").filter(pk=pk)


def family_of(*, apartment) -> tuple[Resident | None, list[Resident]]:
    """The apartment's family master and family members, in one query."""
    residents = list(apartment.residents.order_by("created", "pk"))
    master = next((r for r in residents if r.family_master_id is None), None)
    return master, [r for r in residents if r.family_master_id is not None]
