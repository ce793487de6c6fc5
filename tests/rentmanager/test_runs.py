"""A run is one task per property: the parts end the run together, whatever their order; a part
delivered twice writes once; parts that never report are ended by the reconcile; the lock is the
run's until its last part ends."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communities import services as communities
from communities.choices import Integration
from communities.models import Community
from rentmanager import services, sync
from rentmanager.choices import Kind, Outcome, RunStatus
from rentmanager.locks import is_locked
from rentmanager.models import PropertyRun, SyncRun
from rentmanager.sync import property_sync
from residents.models import Apartment
from tests.factories import build_world

from .conftest import link

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The property tasks a run sends, held here instead of run (as a broker would hold them)."""
    held: list[tuple[int, int]] = []
    monkeypatch.setattr("smartplus.celery.fan_out", lambda task, args: held.extend(args))
    return held


def _start(connection) -> SyncRun:
    run = SyncRun.objects.create(connection=connection, trigger="test")
    services.sync_run_locked(connection_id=connection.pk, run_id=run.pk)
    run.refresh_from_db()
    return run


def test_the_last_property_to_finish_ends_the_run_whatever_the_order(world, fake_rm, sent):
    conn = link(world.installer_a, fake_rm)
    run = _start(conn)
    assert run.status == RunStatus.IN_PROGRESS and len(sent) == 3
    assert is_locked(conn.pk)  # the run holds the lock while its properties are worked
    assert services.sync_run_locked(connection_id=conn.pk) is None  # the daily sync meanwhile
    assert conn.runs.filter(status=RunStatus.SKIPPED).count() == 1 and len(sent) == 3
    with pytest.raises(ValidationError):
        services.sync_now(actor=world.installer_a, connection=conn)
    third, first, second = sent[2], sent[0], sent[1]
    for part in (third, first):
        property_sync(run_id=part[0], part_id=part[1])
        run.refresh_from_db()
        assert run.status == RunStatus.IN_PROGRESS and run.finished_at is None
    assert Apartment.objects.filter(community__rentmanager_property__connection=conn).count() == 12
    property_sync(run_id=second[0], part_id=second[1])
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCESS and run.finished_at is not None
    assert run.counts[Kind.UNIT] == {Outcome.CREATED: 18}
    assert run.counts[Kind.TENANT] == {Outcome.CREATED: 20}
    assert run.counts[Kind.PROPERTY] == {Outcome.CREATED: 3}
    assert not is_locked(conn.pk)


def test_a_property_task_delivered_twice_writes_once(world, fake_rm, sent):
    conn = link(world.installer_a, fake_rm, property_ids=(2, 3))
    run = _start(conn)
    part = sent[0]
    property_sync(run_id=part[0], part_id=part[1])
    made = Apartment.objects.filter(community__installer=world.installer_a).count()
    counts = PropertyRun.objects.get(pk=part[1]).counts
    property_sync(run_id=part[0], part_id=part[1])  # redelivered
    assert Apartment.objects.filter(community__installer=world.installer_a).count() == made
    assert PropertyRun.objects.get(pk=part[1]).counts == counts
    assert Community.objects.filter(installer=world.installer_a, name="Property 2").count() == 1
    property_sync(run_id=sent[1][0], part_id=sent[1][1])
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCESS
    assert run.counts[Kind.UNIT] == {Outcome.CREATED: 12}  # not 18: the twin counted nothing


def test_a_part_of_another_run_is_refused(world, fake_rm, sent):
    conn = link(world.installer_a, fake_rm, property_ids=(2,))
    run = _start(conn)
    other = SyncRun.objects.create(connection=conn, trigger="test")
    property_sync(run_id=other.pk, part_id=sent[0][1])  # the part is run's, not other's
    assert not Community.objects.filter(name="Property 2").exists()
    assert PropertyRun.objects.get(pk=sent[0][1]).finished_at is None
    assert SyncRun.objects.get(pk=run.pk).status == RunStatus.IN_PROGRESS
    assert SyncRun.objects.get(pk=other.pk).status == RunStatus.PENDING  # not ended by a stranger


def test_the_start_task_delivered_twice_starts_the_run_once(world, fake_rm, sent):
    conn = link(world.installer_a, fake_rm)
    run = _start(conn)
    services.sync_run_locked(connection_id=conn.pk, run_id=run.pk)  # redelivered
    assert len(sent) == 3 and PropertyRun.objects.filter(run=run).count() == 3
    assert SyncRun.objects.get(pk=run.pk).status == RunStatus.IN_PROGRESS  # not Skipped by its own lock


def test_properties_cannot_be_unpicked_nor_the_installer_unlinked_while_a_run_goes_on(world, fake_rm, sent):
    conn = link(world.installer_a, fake_rm)
    run = _start(conn)
    keep = [(1, "Alpha Gardens"), (2, "Property 2")]
    with pytest.raises(ValidationError, match="unpicked once the running sync has ended"):
        services.connection_save(
            actor=world.superuser, installer=world.installer_a, base_url=conn.base_url,
            username=conn.username, properties=keep,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="unlinked once the running sync has ended"):
        services.connection_delete(actor=world.superuser, connection=conn)
    for run_id, part_id in sent:
        property_sync(run_id=run_id, part_id=part_id)
    assert SyncRun.objects.get(pk=run.pk).finished_at is not None
    services.connection_save(
        actor=world.superuser, installer=world.installer_a, base_url=conn.base_url,
        username=conn.username, properties=keep,
    )  # fmt: skip
    assert sorted(conn.properties.values_list("rm_id", flat=True)) == [1, 2]


def test_properties_whose_tasks_never_report_are_failed_by_the_reconcile(world, fake_rm, sent, settings):
    conn = link(world.installer_a, fake_rm)
    run = _start(conn)
    property_sync(run_id=sent[0][0], part_id=sent[0][1])  # the other two messages are lost
    assert services.runs_reconcile() == 0  # not overdue yet
    later = timezone.now() + datetime.timedelta(seconds=settings.SMARTPLUS_RENTMANAGER_LOCK_SECONDS + 60)
    assert services.runs_reconcile(now=later) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.PARTIAL and run.finished_at is not None
    lost = run.problems.filter(kind=Kind.PROPERTY, outcome=Outcome.FAILED)
    assert lost.count() == 2 and all("did not report in time" in p.reason for p in lost)
    assert run.counts[Kind.PROPERTY] == {Outcome.CREATED: 1, Outcome.FAILED: 2}
    assert not is_locked(conn.pk)
    # A lost message delivered after all does nothing; the next run syncs those properties.
    property_sync(run_id=sent[1][0], part_id=sent[1][1])
    assert (
        Community.objects.filter(installer=world.installer_a, integration=Integration.RENT_MANAGER).count()
        == 1
    )
    sent.clear()
    again = _start(conn)
    for run_id, part_id in sent:
        property_sync(run_id=run_id, part_id=part_id)
    again.refresh_from_db()
    assert again.status == RunStatus.SUCCESS
    assert again.counts[Kind.PROPERTY] == {Outcome.UNCHANGED: 1, Outcome.CREATED: 2}


def test_a_long_queue_of_properties_is_not_taken_for_lost(world, fake_rm, sent, settings):
    conn = link(world.installer_a, fake_rm)
    run = _start(conn)
    hours = datetime.timedelta(seconds=settings.SMARTPLUS_RENTMANAGER_LOCK_SECONDS)
    SyncRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - hours * 2)
    property_sync(run_id=sent[0][0], part_id=sent[0][1])  # a worker took one just now
    assert services.runs_reconcile() == 0
    assert services.runs_reconcile(now=timezone.now() + hours * 0.5) == 0
    assert services.runs_reconcile(now=timezone.now() + hours * 1.5) == 1  # then nothing for long


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (RunStatus.PENDING, "did not start"),  # its start task was lost
        (RunStatus.IN_PROGRESS, "before its properties were sent"),  # it stopped while planning
    ],
)
def test_a_run_without_properties_sent_is_failed_by_the_reconcile(world, fake_rm, settings, status, says):
    conn = link(world.installer_a, fake_rm)
    run = SyncRun.objects.create(connection=conn, trigger="test", status=status)
    later = timezone.now() + datetime.timedelta(seconds=settings.SMARTPLUS_RENTMANAGER_LOCK_SECONDS + 60)
    assert services.runs_reconcile(now=later) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and says in run.message


def test_the_page_shows_how_many_properties_are_synced_while_a_run_goes_on(world, fake_rm, sent):
    conn = link(world.installer_a, fake_rm)
    _start(conn)
    property_sync(run_id=sent[0][0], part_id=sent[0][1])
    client = Client()
    client.force_login(world.installer_a)
    page = client.get(reverse("rentmanager:connection_detail", args=[conn.pk])).content.decode()
    assert "1 of 3 properties synced" in page
    assert "disabled" in page.split('data-testid="rm-sync-now"')[1].split(">")[0]  # no second run


def _first_thread_holds_its_community(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The thread named "first" stops inside its property's transaction, right after creating
    the community, until `release` is set; `created` says it got there."""
    created, release = threading.Event(), threading.Event()
    real_create = communities.community_create

    def first_holds(**kwargs):
        community = real_create(**kwargs)
        if threading.current_thread().name == "first":
            created.set()
            assert release.wait(10)
        return community

    monkeypatch.setattr(communities, "community_create", first_holds)
    return created, release


@pytest.mark.django_db(transaction=True)
def test_two_properties_of_one_name_synced_at_once_get_two_names(fake_rm, sent, monkeypatch):
    """Two workers create communities for two properties both called "Twin Towers": the second
    waits for the first's commit, then sees its name taken and adds "-Rent Manager"."""
    w = build_world()
    for prop in fake_rm.data["Properties"][:2]:
        prop["Name"] = "Twin Towers"
    conn = link(w.installer_a, fake_rm, property_ids=(1, 2))
    _start(conn)
    created, release = _first_thread_holds_its_community(monkeypatch)

    def work(part):
        try:
            property_sync(run_id=part[0], part_id=part[1])
        finally:
            connections.close_all()

    first = threading.Thread(target=work, args=(sent[0],), name="first")
    second = threading.Thread(target=work, args=(sent[1],), name="second")
    first.start()
    assert created.wait(10)
    second.start()
    second.join(1.0)
    assert second.is_alive()  # waiting for the first property's transaction
    release.set()
    first.join(20)
    second.join(20)
    close_old_connections()
    names = sorted(
        Community.objects.filter(installer=w.installer_a, integration=Integration.RENT_MANAGER).values_list(
            "name", flat=True
        )
    )
    assert names == ["Twin Towers", "Twin Towers-Rent Manager"]
    assert SyncRun.objects.get(connection=conn).status == RunStatus.SUCCESS


@pytest.mark.django_db(transaction=True)
def test_a_twin_delivered_while_its_property_is_written_waits_and_writes_nothing(fake_rm, sent, monkeypatch):
    """The same property task twice at once: the twin passes the first check (nothing committed
    yet), waits on the part's row, then finds it finished."""
    w = build_world()
    conn = link(w.installer_a, fake_rm, property_ids=(2,))
    _start(conn)
    created, release = _first_thread_holds_its_community(monkeypatch)
    claims = []
    real_claim = sync._claim
    monkeypatch.setattr(sync, "_claim", lambda part: claims.append(real_claim(part)) or claims[-1])

    def work():
        try:
            property_sync(run_id=sent[0][0], part_id=sent[0][1])
        finally:
            connections.close_all()

    first = threading.Thread(target=work, name="first")
    twin = threading.Thread(target=work, name="twin")
    first.start()
    assert created.wait(10)
    twin.start()
    twin.join(1.0)
    release.set()
    first.join(20)
    twin.join(20)
    close_old_connections()
    assert claims == [True, False]  # the twin reached the claim and lost it
    assert Apartment.objects.filter(community__name="Property 2").count() == 6
    run = SyncRun.objects.get(connection=conn)
    assert run.status == RunStatus.SUCCESS and run.counts[Kind.UNIT] == {Outcome.CREATED: 6}
