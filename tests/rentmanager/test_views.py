"""The link form (Test connection says what failed), the connection page, the locked settings and
the daily schedule across daylight-saving changes."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from communities.forms import CommunityForm
from communities.models import Community
from communities.services import community_update
from rentmanager.models import Connection, SyncedProperty
from rentmanager.services import due_connections
from rentmanager.sync import run_sync

from .conftest import link

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def _root(world) -> Client:
    client = Client()
    client.force_login(world.superuser)
    return client


def _form(fake, world, **over):
    return {
        "installer": world.installer_a.pk,
        "base_url": fake.url,
        "username": "smartplus",
        "password": "rm-secret",
        "location_id": "",
        **over,
    }


def test_test_connection_lists_properties_and_save_links_the_installer(world, fake_rm):
    client = _root(world)
    url = reverse("rentmanager:connection_add")
    page = client.post(url, _form(fake_rm, world, do="test")).content.decode()
    assert "Connection works: Rent Manager lists 3 properties." in page
    assert "Alpha Gardens" in page and "Property 3" in page
    response = client.post(url, _form(fake_rm, world, do="save", properties=["1", "3"]))
    assert response.status_code == 302
    connection = Connection.objects.get(installer=world.installer_a)
    assert connection.password() == "rm-secret"
    assert "rm-secret" not in connection.password_encrypted
    assert sorted(SyncedProperty.objects.values_list("name", flat=True)) == ["Alpha Gardens", "Property 3"]
    edit = client.get(reverse("rentmanager:connection_edit", args=[connection.pk])).content.decode()
    assert "rm-secret" not in edit  # never shown again


@pytest.mark.parametrize(
    "over, says",
    [
        ({"password": "wrong"}, "Invalid username or password"),
        ({"base_url": "http://127.0.0.1:9"}, "could not be reached"),
    ],
    ids=["bad-credentials", "unreachable"],
)
def test_test_connection_says_what_failed(world, fake_rm, over, says):
    response = _root(world).post(
        reverse("rentmanager:connection_add"), _form(fake_rm, world, do="test", **over)
    )
    assert response.status_code == 422
    assert says in response.content.decode()


def test_no_properties_says_so(world, fake_rm):
    fake_rm.mutate(lambda data: data["Properties"].clear())
    response = _root(world).post(reverse("rentmanager:connection_add"), _form(fake_rm, world, do="test"))
    assert "lists no properties" in response.content.decode()


def test_the_installer_sees_its_log_and_another_installer_does_not(world, fake_rm):
    conn = link(world.installer_a, fake_rm)
    run_sync(connection_id=conn.pk)
    a = Client()
    a.force_login(world.installer_a)
    page = a.get(reverse("rentmanager:connection_detail", args=[conn.pk])).content.decode()
    assert "Sync log" in page and "Success" in page and "Sync now" in page
    b = Client()
    b.force_login(world.installer_b)
    assert b.get(reverse("rentmanager:connection_detail", args=[conn.pk])).status_code == 404
    assert "Alpha" not in b.get(reverse("rentmanager:connection_list")).content.decode()
    community = Community.objects.get(name="Property 2")
    assert (
        "Rent Manager" in a.get(reverse("communities:community_detail", args=[community.pk])).content.decode()
    )


def test_locked_fields_are_refused_to_the_installer_in_form_and_service(world, fake_rm):
    conn = link(world.installer_a, fake_rm, property_ids=(2,))
    run_sync(connection_id=conn.pk)
    community = Community.objects.get(name="Property 2")
    form = CommunityForm(instance=community, actor=world.installer_a)
    for name in ("number_of_apartments", "home_automation", "landline_service", "feature_plan"):
        assert form.fields[name].disabled, name
    with pytest.raises(ValidationError) as refused:
        community_update(actor=world.installer_a, community=community, number_of_apartments=80)
    assert "Rent Manager integration" in str(refused.value)
    with pytest.raises(ValidationError):
        community_update(actor=world.installer_a, community=community, home_automation=True)
    # Not locked: the name, which the spec lets the installer change.
    assert community_update(actor=world.installer_a, community=community, name="Renamed").name == "Renamed"
    # The super manager still can.
    assert community_update(actor=world.superuser, community=community, number_of_apartments=80)


@pytest.mark.parametrize(
    "moments, sent",
    [
        # A winter day: 01:05 EST is too early, 02:05 EST (07:05 UTC) sends, 03:05 does not again.
        (["2026-01-15T06:05", "2026-01-15T07:05", "2026-01-15T08:05"], [False, True, False]),
        # Spring forward (8 March 2026): 02:00 does not exist; 03:05 EDT (07:05 UTC) sends.
        (["2026-03-08T06:05", "2026-03-08T07:05"], [False, True]),
        # Fall back (1 November 2026): 01:05 happens twice, then 02:05 EST (07:05 UTC) sends once.
        (
            ["2026-11-01T05:05", "2026-11-01T06:05", "2026-11-01T07:05", "2026-11-01T08:05"],
            [False, False, True, False],
        ),
    ],
    ids=["winter", "spring-forward", "fall-back"],
)
def test_the_daily_sync_runs_once_per_new_york_day(world, fake_rm, moments, sent):
    conn = link(world.installer_a, fake_rm)
    got = [
        conn.pk in due_connections(datetime.datetime.fromisoformat(m).replace(tzinfo=UTC)) for m in moments
    ]
    assert got == sent


def _list_queries(client) -> tuple[int, str]:
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(db) as queries:
        response = client.get(reverse("rentmanager:connection_list"))
    assert response.status_code == 200
    runs = [q["sql"] for q in queries if 'FROM "rentmanager_syncrun"' in q["sql"]]
    # One query for the runs shown, and it reads the latest of each connection, not its history.
    assert len(runs) == 1 and "LIMIT 1" in runs[0]
    return len(queries), response.content.decode()


def test_the_list_shows_each_connections_latest_run_with_constant_queries(world):
    from rentmanager.choices import RunStatus
    from rentmanager.models import SyncRun
    from tests.factories import InstallerFactory

    def connect(installer, statuses):
        conn = Connection(installer=installer, base_url="https://rm.example.test", username="api")
        conn.set_password("rm-secret")
        conn.save()
        SyncedProperty.objects.create(connection=conn, rm_id=1, name=f"Site of {installer.username}")
        for status in statuses:
            SyncRun.objects.create(connection=conn, status=status)
        return conn

    client = _root(world)
    connect(world.installer_a, [RunStatus.FAILED])
    one, page = _list_queries(client)
    assert "Failed" in page
    # Older runs first, the latest last: only the latest's status shows for each connection.
    connect(world.installer_b, [RunStatus.FAILED] * 4 + [RunStatus.SUCCESS])
    for _ in range(3):
        connect(InstallerFactory(), [RunStatus.FAILED] * 5 + [RunStatus.PARTIAL])
    many, page = _list_queries(client)
    assert many == one
    assert page.count("Success") == 1 and page.count("Partly failed") == 3 and page.count("Failed") == 1
