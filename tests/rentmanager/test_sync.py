"""The sync in process against the fake server over HTTP: what the spec says each change does."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from communities.choices import AccessControlPermission, FeaturePlan, Integration
from communities.models import Building, Community
from rentmanager.choices import Kind, Outcome, RunStatus
from rentmanager.models import ContactLink, UnitLink
from rentmanager.sync import run_sync
from residents.models import Apartment, Resident
from smartplus.models import AuditLog

from .conftest import link

pytestmark = pytest.mark.django_db


def _members(community):
    return Resident.objects.filter(community=community, family_master__isnull=False)


def test_first_sync_creates_communities_apartments_masters_and_members(world, fake_rm):
    conn = link(world.installer_a, fake_rm)
    run = run_sync(connection_id=conn.pk)
    assert run.status == RunStatus.SUCCESS, run.message
    made = Community.objects.filter(installer=world.installer_a, integration=Integration.RENT_MANAGER)
    assert sorted(made.values_list("name", flat=True)) == [
        "Alpha Gardens-Rent Manager",  # the installer has an "Alpha Gardens" already
        "Property 2",
        "Property 3",
    ]
    for community in made:
        assert community.number_of_apartments == 50
        assert community.feature_plan == FeaturePlan.PREMIUM
        assert community.access_control_permission == AccessControlPermission.PUBLIC_AND_PRIVATE
        assert not community.home_automation and not community.landline_service
        assert list(Building.objects.filter(community=community).values_list("name", flat=True)) == [
            "Building 1"
        ]
        apts = Apartment.objects.filter(community=community).order_by("number")
        assert sorted(int(a.number) for a in apts) == [1, 2, 3, 4, 5, 6]
        assert {a.name for a in apts} == {f"Unit {i:04d}" for i in range(1, 7)}
        assert apts.get(name="Unit 0001").floor == 1
        masters = Resident.objects.filter(community=community, family_master__isnull=True)
        assert masters.count() == 6
        assert all(len(m.first_name) == 24 and not m.email for m in masters)
    members = Resident.objects.filter(family_master__isnull=False, community__in=made)
    assert members.count() == 20  # one Primary contact per tenant; guarantors are not members
    ben = members.get(email="tenant1@tenants.example")
    assert (ben.first_name, ben.last_name, ben.landline1) == ("Ben", "Adams", "2155550001")
    assert run.counts[Kind.UNIT][Outcome.CREATED] == 18
    assert run.counts[Kind.TENANT][Outcome.CREATED] == 20
    entry = AuditLog.objects.filter(
        object_id=str(ben.pk), object_type__model="resident", action="create"
    ).get()
    assert entry.user_name == "Rent Manager sync" and entry.actor_id == world.installer_a.pk


def test_a_second_sync_without_change_writes_nothing(world, fake_rm):
    conn = link(world.installer_a, fake_rm)
    run_sync(connection_id=conn.pk)
    audit_before = AuditLog.objects.count()
    with CaptureQueriesContext(db) as queries:
        run = run_sync(connection_id=conn.pk)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) and "rentmanager_sync" not in q["sql"]
    ]
    assert writes == []
    assert AuditLog.objects.count() == audit_before
    assert run.status == RunStatus.SUCCESS
    assert run.counts[Kind.UNIT] == {Outcome.UNCHANGED: 18}
    assert run.counts[Kind.TENANT] == {Outcome.UNCHANGED: 20}


def test_changes_in_rent_manager_do_what_the_spec_says(world, fake_rm):
    conn = link(world.installer_a, fake_rm)
    run_sync(connection_id=conn.pk)

    def edit(data):
        contact = next(c for c in data["Contacts"] if c["ContactID"] == 20)  # tenant 2
        contact["FirstName"] = "Renamed"
        lease = next(lease for lease in data["Leases"] if lease["TenantID"] == 3)
        lease["MoveOutDate"] = "2021-01-01T00:00:00"  # ended
        unit = next(u for u in data["Units"] if u["UnitID"] == 18)
        data["Units"].remove(unit)  # removed from Rent Manager
        from rentmanager.fake.seed import add_tenant

        add_tenant(data, 99, data["Units"][0], "Nina", "New", email="nina@tenants.example")

    fake_rm.mutate(edit)
    run = run_sync(connection_id=conn.pk)
    assert Resident.objects.get(rentmanager_contact__rm_id=20).first_name == "Renamed"
    assert not ContactLink.objects.filter(rm_id=30).exists()
    assert not Resident.objects.filter(email="tenant3@tenants.example").exists()
    assert Resident.objects.filter(email="nina@tenants.example", family_master__isnull=False).exists()
    gone = UnitLink.objects.get(rm_id=18)
    assert gone.missing_since is not None and Apartment.objects.filter(pk=gone.apartment_id).exists()
    assert run.counts[Kind.TENANT][Outcome.UPDATED] == 1
    assert run.counts[Kind.TENANT][Outcome.DELETED] == 1
    assert run.counts[Kind.TENANT][Outcome.CREATED] == 1
    assert run.counts[Kind.UNIT][Outcome.FLAGGED] == 1
    flagged = run.problems.get(kind=Kind.UNIT)
    assert flagged.rm_id == "18" and "no longer in Rent Manager" in flagged.reason
    # Tenant 18 lived in the removed unit: flagged too, not deleted.
    assert Resident.objects.filter(email="tenant18@tenants.example").exists()


def test_an_email_clash_is_a_problem_on_that_row_only(world, fake_rm):
    Resident.objects.filter(pk=world.resident_a.pk).update(email="tenant4@tenants.example")
    conn = link(world.installer_a, fake_rm)
    run = run_sync(connection_id=conn.pk)
    assert run.status == RunStatus.PARTIAL
    problem = run.problems.get(kind=Kind.TENANT)
    assert problem.rm_id == "4" and "already used by another end user" in problem.reason
    assert run.counts[Kind.TENANT][Outcome.CREATED] == 19


@pytest.mark.parametrize(
    "fault",
    [
        {"fail": {"resource": "Units", "page": 3, "status": 503, "times": 99}},
        {"delay": 3},
    ],
    ids=["5xx-on-3rd-page", "timeout"],
)
def test_a_failing_property_is_untouched_and_the_next_run_completes_it(world, fake_rm, settings, fault):
    settings.SMARTPLUS_RENTMANAGER_TIMEOUT = 0.5
    conn = link(world.installer_a, fake_rm, property_ids=(2,))
    fake_rm.config.update(fault)
    run = run_sync(connection_id=conn.pk)
    assert run.status in (RunStatus.FAILED, RunStatus.PARTIAL)
    assert not Community.objects.filter(name="Property 2").exists()
    assert Apartment.objects.filter(community__installer=world.installer_a).count() == 1  # A's own
    reason = run.message + " ".join(p.reason for p in run.problems.all())
    assert ("503" in reason) or ("did not answer" in reason), reason
    fake_rm.reset()
    again = run_sync(connection_id=conn.pk)
    assert again.status == RunStatus.SUCCESS
    assert Apartment.objects.filter(community__name="Property 2").count() == 6


def test_a_token_expiring_mid_run_is_renewed(world, fake_rm):
    conn = link(world.installer_a, fake_rm)
    fake_rm.config["expire_after"] = 4
    run = run_sync(connection_id=conn.pk)
    assert run.status == RunStatus.SUCCESS, run.message
    assert Apartment.objects.filter(community__integration=Integration.RENT_MANAGER).count() == 18


def test_bad_credentials_fail_the_run_with_the_reason(world, fake_rm):
    conn = link(world.installer_a, fake_rm)
    conn.set_password("wrong")
    conn.save()
    run = run_sync(connection_id=conn.pk)
    assert run.status == RunStatus.FAILED
    assert "Invalid username or password" in run.message


def _sync_queries(installer, units: int, tenants: int) -> tuple[int, int]:
    """Queries of a first sync and of a no-change re-sync of one property of `units` units."""
    from rentmanager.fake import seed as seeds
    from rentmanager.fake import serve

    data = seeds.generate(1, units, tenants)
    for contact in data["Contacts"]:  # emails of this installer's own (end users' emails are unique)
        if contact.get("Email"):
            contact["Email"] = f"{installer.username}.{contact['Email']}"
    server = serve(data)
    try:
        conn = link(installer, server, property_ids=(1,))
        counts = []
        for _ in range(2):
            with CaptureQueriesContext(db) as queries:
                run = run_sync(connection_id=conn.pk)
            assert run.status == RunStatus.SUCCESS, run.message
            counts.append(len(queries))
        assert run.counts[Kind.UNIT][Outcome.UNCHANGED] == units
        return tuple(counts)
    finally:
        server.stop()


def test_queries_per_property_do_not_grow_with_units_and_tenants(world, fake_rm):
    small = _sync_queries(world.installer_a, 4, 6)
    large = _sync_queries(world.installer_b, 24, 36)
    assert large == small
