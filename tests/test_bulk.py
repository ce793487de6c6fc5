"""smartplus.bulk: the imports' COPY writer and its helpers, against the real PostgreSQL."""

from __future__ import annotations

import pytest
from django.utils import timezone

from communities.models import Building
from residents.models import Apartment, Resident
from smartplus.bulk import attach, blank, bulk_insert
from smartplus.models import AuditLog
from tests.factories import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def community():
    return build_world().community_a


def test_rows_read_back_as_written_with_ids_and_stamps(community):
    started = timezone.now()
    names = ["Tab\there", "Line\nbreak", "Back\\slash", "Crème brûlée 楼", ""]
    buildings = [Building(community=community, name=f"B{i} {name}") for i, name in enumerate(names)]
    bulk_insert(Building, buildings)

    assert all(b.pk is not None and not b._state.adding for b in buildings)
    stored = {b.pk: b for b in Building.objects.filter(pk__in=[b.pk for b in buildings])}
    assert [stored[b.pk].name for b in buildings] == [f"B{i} {name}" for i, name in enumerate(names)]
    assert all(stored[b.pk].created >= started and stored[b.pk].modified >= started for b in buildings)


def test_null_and_empty_text_stay_apart(community):
    building = Building.objects.create(community=community, name="Tower")
    flat = Apartment(community=community, building=building, number="9101", floor=None, name="")
    flat.family_sip_number = "6100001"
    bulk_insert(Apartment, [flat])

    flat.refresh_from_db()
    assert flat.floor is None and flat.name == ""


def test_children_of_parents_written_just_before_get_their_ids(community):
    building = blank(Building)
    attach(building, community=community)
    building.name = "New block"
    flat = blank(Apartment)
    attach(flat, community=community, building=building)
    flat.number, flat.family_sip_number = "12", "6100002"
    person = blank(Resident)
    attach(person, community=community, apartment=flat)
    person.first_name, person.last_name = "Ann", "Lee"

    bulk_insert(Building, [building])
    bulk_insert(Apartment, [flat])
    bulk_insert(Resident, [person])

    stored = Resident.objects.select_related("apartment__building").get(pk=person.pk)
    assert stored.apartment.number == "12" and stored.apartment.building.name == "New block"
    assert stored.community_id == community.pk
    assert person.apartment is flat  # the attached object, not a query


def test_a_child_of_an_unsaved_parent_is_refused_and_nothing_is_written(community):
    building = Building(community=community, name="Never saved")
    flat = blank(Apartment)
    attach(flat, community=community, building=building)
    flat.number, flat.family_sip_number = "13", "6100003"

    with pytest.raises(ValueError, match="unsaved related object 'building'"):
        bulk_insert(Apartment, [flat])
    assert not Apartment.objects.filter(number="13").exists()


def test_blank_instances_have_the_defaults_and_are_independent(community):
    first, second = blank(Resident), blank(Resident)
    first.first_name = "Ann"
    attach(first, community=community)

    assert second.first_name == "" and second.community_id is None
    assert second.language == Resident._meta.get_field("language").default
    assert second._state.adding and second.pk is None


def test_blank_refuses_a_model_whose_default_is_computed():
    # A copy would share one value (a time, a dict) among all instances.
    with pytest.raises(TypeError, match="changes"):
        blank(AuditLog)
