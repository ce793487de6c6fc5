"""smartplus.bulk: the imports' COPY writer and its helpers, against the real PostgreSQL."""

from __future__ import annotations

import gc

import pytest
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Building
from residents.models import Apartment, Resident
from smartplus import lookups
from smartplus.bulk import JSONText, attach, blank, bulk_insert, full_collections_deferred, insert_rows
from smartplus.models import AuditLog
from smartplus.validators import FieldChecks
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


def test_any_of_finds_what_in_finds(community):
    tower = Building.objects.create(community=community, name="Tower")
    flats = [
        Apartment.objects.create(community=community, building=tower, number=n, family_sip_number=f"61{n}")
        for n in ("7101", "7102", "7103")
    ]
    wanted = ["7101", "7103", "7999"]

    found = set(Apartment.objects.filter(number__any_of=wanted))
    assert found == set(Apartment.objects.filter(number__in=wanted))
    assert {a.number for a in Apartment.objects.filter(number__any_of=wanted)} == {"7101", "7103"}
    # A relation's id, an annotation and nothing at all.
    assert set(Apartment.objects.filter(building_id__any_of=[tower.pk])) == set(flats)
    lowered = Building.objects.annotate(lower=Lower("name")).filter(lower__any_of=["tower"])
    assert list(lowered) == [tower]
    assert list(Apartment.objects.filter(number__any_of=[])) == []


def test_any_of_sends_one_parameter_however_many_values(community):
    with CaptureQueriesContext(connection) as queries:
        list(Apartment.objects.filter(number__any_of=[str(n) for n in range(10)]))
        list(Apartment.objects.filter(number__any_of=[str(n) for n in range(5_000)]))
    short, long = (q["sql"] for q in queries)
    assert "= ANY(" in short and " IN (" not in short
    # A long list is joined (hashed), not compared value by value on every row; still one array.
    assert "IN (SELECT unnest(ARRAY[" in long and long.count("ARRAY[") == 1 and "= ANY(" not in long


@pytest.mark.parametrize("wanted_count", [lookups.JOINED_FROM - 1, lookups.JOINED_FROM, 300])
def test_a_long_any_of_list_finds_what_in_finds(community, wanted_count):
    tower = Building.objects.create(community=community, name="Tower")
    Apartment.objects.bulk_create(
        Apartment(community=community, building=tower, number=str(9000 + n), family_sip_number=f"7{n:05d}")
        for n in range(1, 401)
    )
    wanted = [str(9000 + n) for n in range(200, 200 + wanted_count)]  # some past the last APT
    found = {a.number for a in Apartment.objects.filter(number__any_of=wanted)}
    assert found == {a.number for a in Apartment.objects.filter(number__in=wanted)}
    assert len(found) == min(wanted_count, 201)
    # Ids, and the lookup negated (exclude) as well.
    ids = list(Apartment.objects.filter(number__in=wanted).values_list("pk", flat=True))
    assert Apartment.objects.filter(pk__any_of=ids).count() == len(ids)
    assert Apartment.objects.filter(building=tower).exclude(pk__any_of=ids).count() == 400 - len(ids)


def test_full_collections_wait_for_the_last_of_nested_bulk_jobs():
    thresholds = gc.get_threshold()
    with full_collections_deferred():
        with full_collections_deferred():
            assert gc.get_threshold()[:2] == thresholds[:2]  # young collections go on
            assert gc.get_threshold()[2] > 10**6
        assert gc.get_threshold()[2] > 10**6
    assert gc.get_threshold() == thresholds
    with pytest.raises(RuntimeError), full_collections_deferred():
        raise RuntimeError
    assert gc.get_threshold() == thresholds


def test_rows_inserted_without_instances_share_constants_and_get_ids_and_stamps(community):
    started = timezone.now()
    count = insert_rows(
        AuditLog,
        constants={"action": "create", "user_name": "importer", "change_set": None},
        columns=("object_id", "object_repr", "changes"),
        rows=[("1", "Tab\there", {"name": [None, "A\nB"]}), ("2", "Back\\slash", {})],
        batch_size=1,
    )

    entries = list(AuditLog.objects.filter(user_name="importer").order_by("object_id"))
    assert count == 2 and [e.object_repr for e in entries] == ["Tab\there", "Back\\slash"]
    assert entries[0].changes == {"name": [None, "A\nB"]} and entries[1].changes == {}
    assert all(e.pk and e.action == "create" and e.time >= started for e in entries)


def test_json_text_is_written_as_it_is_and_many_rows_stream_through_one_copy(community):
    text = '{"n": [null, %d], "t": [null, "a\\\\b"]}'  # a backslash, escaped twice
    rows = [(str(i), f"Row {i}", JSONText(text.replace("%d", str(i)))) for i in range(3000)]
    count = insert_rows(
        AuditLog,
        constants={"action": "create", "user_name": "streamed"},
        columns=("object_id", "object_repr", "changes"),
        rows=iter(rows),
    )

    assert count == 3000
    entry = AuditLog.objects.get(user_name="streamed", object_id="2999")
    assert entry.object_repr == "Row 2999" and entry.changes == {"n": [None, 2999], "t": [None, "a\\b"]}


def test_a_row_that_fails_to_be_made_raises_its_own_error_and_nothing_is_written(community):
    def rows():
        yield ("1", "first", {})
        raise LookupError("no such row")

    with pytest.raises(LookupError, match="no such row"), transaction.atomic():
        insert_rows(
            AuditLog,
            constants={"action": "create", "user_name": "broken"},
            columns=("object_id", "object_repr", "changes"),
            rows=rows(),
        )
    assert not AuditLog.objects.filter(user_name="broken").exists()


def test_field_checks_check_equal_values_once_and_keep_their_answers_apart():
    checks = FieldChecks(Apartment, exclude=["community", "building", "family_sip_number"])
    good, same, bad = (blank(Apartment) for _ in range(3))
    good.number = same.number = "101"
    bad.number = "x" * 40

    assert checks(good) == {} and checks(same) == {}
    first, second = checks(bad), checks(bad)
    assert "number" in first and first == second
    first["number"].append("changed by a caller")
    assert checks(bad) == second  # each caller gets its own lists
    assert len(checks.known) == 2
