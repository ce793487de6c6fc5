"""The audit log page and the one scoping mechanism (smartplus.scoping)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.models import Installer, PropertyManager, SubAccount
from communities import services
from communities.models import Community
from smartplus.audit import AuditContext, audit_context
from smartplus.models import AuditLog
from tests.factories import InstallerFactory

pytestmark = pytest.mark.django_db


def _as(user):
    return audit_context.set(AuditContext(user.pk, user.username, user.pk, user.username))


def test_audit_log_page_filters_by_object_type_user_and_date(client, world):
    token = _as(world.sub_a)
    services.community_update(actor=world.sub_a, community=world.community_a, city="Dallas")
    audit_context.reset(token)
    token = _as(world.installer_a)
    services.community_update(actor=world.installer_a, community=world.community_a2, city="Houston")
    audit_context.reset(token)
    AuditLog.objects.filter(user_name="helper_sam").update(time=timezone.now() - datetime.timedelta(days=3))

    client.force_login(world.installer_a)
    url = reverse("auditlog_list")
    community_type = ContentType.objects.get_for_model(Community).pk

    def rows(**params):
        return [
            (r.record.user_name, r.record.object_repr) for r in client.get(url, params).context["table"].rows
        ]

    assert set(rows(object_type=community_type, action="update")) == {
        ("helper_sam", "Alpha Gardens"),
        ("inst_a", "Alpha Towers"),
    }
    assert rows(user="helper_sam", action="update") == [("helper_sam", "Alpha Gardens")]
    today = timezone.localdate().isoformat()
    assert rows(date_from=today, action="update") == [("inst_a", "Alpha Towers")]
    assert "Dallas" in client.get(url, {"user": "helper_sam"}).content.decode()


def test_audit_log_shows_only_the_tenants_rows(client, world):
    token = _as(world.installer_b)
    services.community_update(actor=world.installer_b, community=world.community_b, city="Reno")
    audit_context.reset(token)
    client.force_login(world.installer_a)
    body = client.get(reverse("auditlog_list"), {"per_page": 100}).content.decode()
    assert "Bravo Heights" not in body and "Reno" not in body


def test_visible_communities_per_role(world):
    def names(actor):
        return set(Community.objects.for_actor(actor).values_list("name", flat=True))

    assert names(world.installer_a) == names(world.sub_a) == {"Alpha Gardens", "Alpha Towers"}
    assert names(world.installer_b) == {"Bravo Heights"}
    assert names(world.pm_a) == {"Alpha Gardens"}
    assert names(world.pm_nothing) == set()
    assert names(world.distributor_a) == set()
    assert names(world.superuser) == {"Alpha Gardens", "Alpha Towers", "Bravo Heights"}


def test_actions_are_data_in_roles(world):
    assert Community.objects.for_actor(world.pm_a, "change").count() == 0
    assert Community.objects.for_actor(world.installer_a, "change").count() == 2
    assert SubAccount.objects.for_actor(world.sub_a).count() == 0  # sub-installers do not manage sub-accounts
    assert list(SubAccount.objects.for_actor(world.installer_a)) == [world.sub_a]
    assert set(PropertyManager.objects.for_actor(world.sub_a)) == {world.pm_a, world.pm_nothing}
    assert list(Installer.objects.for_actor(world.distributor_a)) == [world.installer_a]
    assert Installer.objects.for_actor(world.distributor_other).get() == world.installer_b
    assert Installer.objects.for_actor(world.installer_a).count() == 0


# --- change sets -----------------------------------------------------------------------------


def _apartments(world, count: int, start: int):
    from residents.models import Apartment
    from smartplus import bulk

    apts = []
    for i in range(count):
        apt = bulk.blank(Apartment)
        apt.community_id, apt.building_id = world.community_a.pk, world.building_a.pk
        apt.number, apt.family_sip_number = f"{start + i}", f"C{start + i:09d}"
        apts.append(apt)
    bulk.bulk_insert(Apartment, apts)  # one change set of "Created" entries, in bulk
    return apts


def test_bulk_writes_are_audited_as_one_change_set(world):
    from smartplus import audit

    token = _as(world.installer_a)
    try:
        with audit.change_set() as first:
            apts = _apartments(world, 3, 500)
        with audit.change_set() as second:
            from residents.models import Apartment

            audit.update(Apartment.objects.filter(pk__in=[a.pk for a in apts]), name="Renamed")
    finally:
        audit_context.reset(token)
    created = AuditLog.objects.filter(change_set=first)
    assert sorted(e.object_id for e in created) == sorted(str(a.pk) for a in apts)
    assert {(e.action, e.installer_id, e.user_name) for e in created} == {
        ("create", world.installer_a.pk, "inst_a")
    }
    assert sorted(e.object_repr for e in created) == ["APT 500", "APT 501", "APT 502"]
    updated = AuditLog.objects.filter(change_set=second)
    assert updated.count() == 3
    assert {tuple(e.changes["name"]) for e in updated} == {("", "Renamed")}


def test_audit_log_lists_a_change_set_with_constant_queries(client, world):
    from smartplus import audit
    from tests.querycounts import list_query_counts

    token = _as(world.installer_a)
    try:
        with audit.change_set() as small:
            _apartments(world, 3, 600)
        with audit.change_set() as large:
            _apartments(world, 40, 700)
    finally:
        audit_context.reset(token)
    client.force_login(world.installer_a)
    url = reverse("auditlog_list")
    counted = list_query_counts(
        client,
        {
            "small": (url, {"change_set": str(small), "per_page": 50}, 3),
            "large": (url, {"change_set": str(large), "per_page": 50}, 40),
            "all": (url, {"per_page": 50}, None),
        },
    )
    assert counted["small"] == counted["large"] == counted["all"], counted
    body = client.get(url, {"change_set": str(small)}).content.decode()
    assert f"?change_set={small}" in body and f"?change_set={large}" not in body


def test_a_bulk_created_entry_records_what_the_save_signal_records():
    # record_many writes "Created" changes from a template when the values are scalars (choices
    # enums, None, booleans); they must read back as the saved row's entry does.
    from residents.models import Apartment
    from smartplus import audit, bulk
    from tests.factories import build_world

    community = build_world().community_a
    building = community.buildings.create(name="Template tower")
    saved = Apartment.objects.create(community=community, building=building, number="7001", name="Ann's")
    made = Apartment(community=community, building=building, number="7002", name='Bob "B" \\ ü')
    made.family_sip_number = "6190002"
    bulk.bulk_insert(Apartment, [made], audit=False)
    audit.record_many(action="create", instances=[made])

    def changes(apartment):
        entry = AuditLog.objects.get(object_id=str(apartment.pk), action="create", object_repr=str(apartment))
        return entry.changes

    signal, bulk_made = changes(saved), changes(made)
    assert bulk_made.keys() == signal.keys()
    assert bulk_made["name"] == [None, 'Bob "B" \\ ü'] and bulk_made["floor"] == [None, None]
    assert bulk_made["call_type"] == signal["call_type"] and bulk_made["call_mode"] == signal["call_mode"]
    assert made._audit_snapshot == audit._values(made)


@pytest.mark.django_db
def test_audit_update_in_one_statement_records_what_the_orm_path_records(world, monkeypatch):
    """audit.update's single UPDATE ... RETURNING (PostgreSQL, constant values, a model naming
    its entry's fields) writes the same entries as the lock-read-write-read path."""
    from datetime import UTC, datetime

    from residents.models import Resident
    from smartplus import audit
    from smartplus.models import AuditLog

    residents = Resident.objects.filter(pk__in=[world.resident_a.pk, world.member_a.pk])
    when = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)

    def entries():
        rows = AuditLog.objects.filter(action="update").order_by("object_id")
        return [(e.object_id, e.object_repr, e.installer_id, e.changes) for e in rows]

    Resident.objects.update(activated=False, expires_at=None)
    assert audit.update(residents, activated=True, expires_at=when) == 2
    fast = entries()
    AuditLog.objects.all().delete()
    Resident.objects.update(activated=False, expires_at=None)
    monkeypatch.setattr(audit, "_update_returning", lambda *args: None)
    assert audit.update(residents, activated=True, expires_at=when) == 2
    assert entries() == fast and len(fast) == 2
    assert fast[0][3] == {"activated": [False, True], "expires_at": [None, when.isoformat()]}
    assert audit.update(residents, activated=True, expires_at=when) == 2  # nothing changes
    assert len(entries()) == 2


def test_entries_follow_deleted_users_without_database_constraints(world):
    """The entries' references have no database constraint (smartplus 0004): Django's on_delete
    alone keeps them right. A deleted sub-account's entries stay, named but unlinked; a deleted
    installer's entries (one without communities, the others are protected) go with it, and the
    entry recording that deletion stays."""
    token = _as(world.sub_a)
    services.community_update(actor=world.sub_a, community=world.community_a, city="Dallas")
    audit_context.reset(token)
    by_sub = AuditLog.objects.get(user_name=world.sub_a.username, object_id=str(world.community_a.pk))
    leaving = InstallerFactory(username="inst_leaving")
    before = AuditLog.objects.create(
        installer=leaving, user=leaving, user_name=leaving.username, action="update"
    )

    sub_pk, leaving_pk = world.sub_a.pk, leaving.pk
    world.sub_a.delete()
    by_sub.refresh_from_db()
    assert (by_sub.user_id, by_sub.actor_id, by_sub.user_name) == (None, None, world.sub_a.username)
    assert not AuditLog.objects.filter(user_id=sub_pk).exists()

    leaving.delete()
    assert not AuditLog.objects.filter(pk=before.pk).exists()
    (deleted,) = AuditLog.objects.filter(installer_id=leaving_pk)
    assert (deleted.action, deleted.object_repr) == ("delete", "inst_leaving")
    assert AuditLog.objects.filter(installer=world.installer_a).exists()
