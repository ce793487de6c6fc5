"""Rent Manager sync on a real Celery worker (Redis broker) against the fake RM server over HTTP:
Sync now → the worker syncs 3 properties; a re-sync writes nothing; a change in Rent Manager
reaches the portal; a sync of a connection already syncing is skipped (the lock); on a worker of
two threads, two properties are synced at once."""

from __future__ import annotations

import pytest
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from communities.choices import Integration
from communities.models import Community
from rentmanager.choices import Kind, Outcome, RunStatus
from rentmanager.fake import serve
from rentmanager.locks import sync_lock
from rentmanager.models import SyncRun
from rentmanager.services import sync_now
from rentmanager.tasks import sync_connection_task
from residents.models import Apartment, Resident
from smartplus.models import AuditLog
from tests.factories import build_world
from tests.rentmanager.conftest import link, rm_seed
from tests.workers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ENDED = (RunStatus.SUCCESS, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.SKIPPED)


@pytest.fixture
def fake(settings):
    settings.SMARTPLUS_RENTMANAGER_PAGE_SIZE = 2
    settings.SMARTPLUS_RENTMANAGER_BACKOFF = 0.001
    server = serve(rm_seed())
    yield server
    server.stop()


def _finished(run_id: int) -> SyncRun:
    assert wait_until(lambda: SyncRun.objects.get(pk=run_id).status in ENDED, timeout=60)
    return SyncRun.objects.get(pk=run_id)


def test_sync_now_on_a_real_worker(fake, celery_worker_real):
    w = build_world()
    conn = link(w.installer_a, fake)
    client = Client()
    client.force_login(w.installer_a)
    response = client.post(reverse("rentmanager:connection_sync", args=[conn.pk]))
    assert response.status_code == 302
    run = _finished(SyncRun.objects.get(connection=conn).pk)
    assert run.status == RunStatus.SUCCESS, run.message
    assert (
        Community.objects.filter(installer=w.installer_a, integration=Integration.RENT_MANAGER).count() == 3
    )
    assert Apartment.objects.filter(community__integration=Integration.RENT_MANAGER).count() == 18
    assert Resident.objects.filter(community__integration=Integration.RENT_MANAGER).count() == 18 + 20
    page = client.get(reverse("rentmanager:connection_detail", args=[conn.pk])).content.decode()
    assert "Success" in page and "Alpha Gardens-Rent Manager" in page

    # A second sync with no change writes nothing: no audit entry, no row modified.
    audit = AuditLog.objects.count()
    stamp = Resident.objects.aggregate(m=Max("modified"))["m"]
    again = _finished(sync_now(actor=w.installer_a, connection=conn).pk)
    assert again.status == RunStatus.SUCCESS
    assert AuditLog.objects.count() == audit
    assert Resident.objects.aggregate(m=Max("modified"))["m"] == stamp
    assert again.counts[Kind.TENANT] == {Outcome.UNCHANGED: 20}

    # Rent Manager changes: a renamed tenant, an ended lease.
    def edit(data):
        next(c for c in data["Contacts"] if c["ContactID"] == 20)["FirstName"] = "Renamed"
        next(lease for lease in data["Leases"] if lease["TenantID"] == 3)["MoveOutDate"] = "2021-01-01"

    fake.mutate(edit)
    third = _finished(sync_now(actor=w.installer_a, connection=conn).pk)
    assert third.counts[Kind.TENANT][Outcome.UPDATED] == 1
    assert third.counts[Kind.TENANT][Outcome.DELETED] == 1
    assert Resident.objects.filter(first_name="Renamed").exists()
    assert not Resident.objects.filter(email="tenant3@tenants.example").exists()
    entry = AuditLog.objects.filter(action="update", object_type__model="resident").latest("pk")
    assert entry.user_name == "Rent Manager sync"


def test_two_syncs_of_one_connection_never_run_at_once(fake, celery_worker_real):
    w = build_world()
    conn = link(w.installer_a, fake)
    run = SyncRun.objects.create(connection=conn, trigger="test")
    with sync_lock(conn.pk) as held:  # another sync holds the connection
        assert held
        sync_connection_task.delay(conn.pk, run.pk)
        skipped = _finished(run.pk)
    assert skipped.status == RunStatus.SKIPPED
    assert not Community.objects.filter(integration=Integration.RENT_MANAGER).exists()


def test_properties_are_synced_two_at_once_on_two_worker_threads(fake, celery_workers_parallel):
    """Each property is a task: two threads work them at once, each in its own transaction, and
    the last one ends the run and frees the lock for the next Sync now."""
    w = build_world()
    conn = link(w.installer_a, fake)
    first = _finished(sync_now(actor=w.installer_a, connection=conn).pk)
    assert first.status == RunStatus.SUCCESS, first.message
    assert first.counts[Kind.PROPERTY] == {Outcome.CREATED: 3}
    assert first.counts[Kind.UNIT] == {Outcome.CREATED: 18}
    assert first.counts[Kind.TENANT] == {Outcome.CREATED: 20}
    assert Apartment.objects.filter(community__integration=Integration.RENT_MANAGER).count() == 18
    assert first.parts.filter(finished_at__isnull=True).count() == 0
    again = _finished(sync_now(actor=w.installer_a, connection=conn).pk)  # the lock was given back
    assert again.status == RunStatus.SUCCESS
    assert again.counts[Kind.TENANT] == {Outcome.UNCHANGED: 20}
