"""The residents' bulk services: the single-row rules, per row, for many rows at once.

The import's own row messages are tested in test_template_import.py; here the services are called
directly, as the Rent Manager sync will, and must refuse what the single-row services refuse.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from communities.models import Building
from communities.services import building_bulk_create
from residents import services
from residents.models import Apartment, Resident
from smartplus import authz
from smartplus.bulk import BulkErrors
from smartplus.models import AuditLog

pytestmark = pytest.mark.django_db


def _apartments(building, *numbers) -> list[Apartment]:
    return [Apartment(building=building, number=n) for n in numbers]


def _counters(community) -> tuple[int, int]:
    community.refresh_from_db()
    return community.apartment_count, community.end_user_count


def test_apartments_and_masters_are_written_counted_audited_and_emailed(
    world, django_capture_on_commit_callbacks
):
    w = world
    before = _counters(w.community_a)
    audit = AuditLog.objects.count()
    apartments = services.apartment_bulk_create(
        actor=w.installer_a, community=w.community_a, apartments=_apartments(w.building_a, "201", "202")
    )
    masters = [
        Resident(apartment=apartments[0], first_name="Ann", last_name="Lee", email="ann@example.test"),
        Resident(apartment=apartments[1], first_name="Bo", last_name="Li"),
    ]
    with django_capture_on_commit_callbacks() as callbacks:
        services.family_master_bulk_create(actor=w.installer_a, community=w.community_a, residents=masters)
    numbers = [int(a.family_sip_number) for a in Apartment.objects.filter(pk__in=[a.pk for a in apartments])]
    assert len(set(numbers)) == 2 and min(numbers) >= services.FAMILY_SIP_START
    assert _counters(w.community_a) == (before[0] + 2, before[1] + 2)
    assert AuditLog.objects.count() == audit + 4  # one "Created" per apartment and end user
    assert len(callbacks) == 1  # Ann's account email; Bo has no email


def test_an_apt_of_the_community_or_twice_in_the_rows_is_refused_per_row(world):
    w = world
    other = Building.objects.create(community=w.community_a, name="Other")
    with pytest.raises(BulkErrors) as exc:
        services.apartment_bulk_create(
            actor=w.installer_a,
            community=w.community_a,
            apartments=[*_apartments(other, "101", "301", "301"), *_apartments(w.building_a, "#1")],
        )
    assert exc.value.rows[0] == {"number": [services.apartment_clash_message("101", "Alpha Block")]}
    assert exc.value.rows[2] == {"number": ["APT 301 is given twice."]}
    assert list(exc.value.rows[3]) == ["number"]
    assert 1 not in exc.value.rows
    assert not Apartment.objects.filter(number="301").exists()


def test_more_apartments_than_the_number_of_apartments_is_refused(world):
    w = world
    w.community_a.number_of_apartments = w.community_a.apartment_count + 1
    w.community_a.save()
    with pytest.raises(BulkErrors) as exc:
        services.apartment_bulk_create(
            actor=w.installer_a, community=w.community_a, apartments=_apartments(w.building_a, "201", "202")
        )
    assert list(exc.value.rows) == [1]
    assert "Number of apartments" in exc.value.rows[1]["__all__"][0]


def test_a_taken_or_repeated_email_and_a_bad_name_are_refused(world):
    w = world
    Resident.objects.filter(pk=w.resident_a.pk).update(email="lily@example.test")
    apartments = services.apartment_bulk_create(
        actor=w.installer_a,
        community=w.community_a,
        apartments=_apartments(w.building_a, "201", "202", "203"),
    )
    masters = [
        Resident(apartment=apartments[0], first_name="Ann", last_name="Lee", email="LILY@example.test"),
        Resident(apartment=apartments[1], first_name="F" * 65, last_name="Li", email="bo@example.test"),
        Resident(apartment=apartments[2], first_name="Cy", last_name="Wu", email="Bo@example.test"),
    ]
    with pytest.raises(BulkErrors) as exc:
        services.family_master_bulk_create(actor=w.installer_a, community=w.community_a, residents=masters)
    assert exc.value.rows[0] == {"email": [services.EMAIL_TAKEN]}
    assert list(exc.value.rows[1]) == ["first_name"]
    assert exc.value.rows[2] == {"email": ["Bo@example.test is given twice."]}


def test_another_tenants_community_or_building_is_not_found(world):
    w = world
    with pytest.raises(authz.NotFound):
        services.apartment_bulk_create(
            actor=w.installer_a, community=w.community_b, apartments=_apartments(w.building_b, "1")
        )
    with pytest.raises(authz.NotFound):
        services.apartment_bulk_create(
            actor=w.installer_a, community=w.community_a, apartments=_apartments(w.building_b, "1")
        )
    with pytest.raises(PermissionDenied):
        services.apartment_bulk_create(
            actor=w.pm_nothing, community=w.community_a, apartments=_apartments(w.building_a, "1")
        )


def test_updates_are_checked_written_and_audited_with_their_changes(world):
    w = world
    apt = Apartment.objects.get(pk=w.apartment_a.pk)
    apt.name, apt.web_relay_id = "Zheng", 51
    with pytest.raises(BulkErrors) as exc:
        services.apartment_bulk_update(actor=w.installer_a, apartments=[apt], fields={"name", "web_relay_id"})
    assert list(exc.value.rows[0]) == ["web_relay_id"]
    apt.web_relay_id = 5
    services.apartment_bulk_update(actor=w.installer_a, apartments=[apt], fields={"name", "web_relay_id"})
    entry = AuditLog.objects.latest("pk")
    assert (entry.action, sorted(entry.changes)) == ("update", ["name", "web_relay_id"])
    with pytest.raises(authz.NotFound):
        services.apartment_bulk_update(
            actor=w.installer_b, apartments=[Apartment.objects.get(pk=apt.pk)], fields={"name"}
        )


def test_buildings_in_bulk_refuse_a_taken_name(world):
    w = world
    with pytest.raises(BulkErrors) as exc:
        building_bulk_create(
            actor=w.installer_a,
            community=w.community_a,
            buildings=[Building(name="alpha block"), Building(name="New"), Building(name="NEW")],
        )
    assert exc.value.rows[0] == {"name": ["Alpha Gardens already has a building named alpha block."]}
    assert exc.value.rows[2] == {"name": ["NEW is given twice."]}
