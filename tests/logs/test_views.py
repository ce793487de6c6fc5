"""The logs pages: who sees them, that one community never shows another's, filters, seek
pages, exports and images; constant queries; reset and retention."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import PropertyManagerAssignment
from logs import selectors, services
from logs.models import CallEvent, CapturedImage, DoorEvent, private_storage
from tests.factories import build_world
from tests.logs.support import JPEG, make_door_event, make_image

pytestmark = pytest.mark.django_db

PAGES = ("logs:door_log", "logs:call_history", "logs:captured_images")


@pytest.fixture
def world():
    return build_world()


def _grant(w, community=None, value=True):
    PropertyManagerAssignment.objects.filter(
        property_manager=w.pm_a, community=community or w.community_a
    ).update(log_access_control=value)


def _url(name, community, **query):
    url = reverse(name, args=[community.pk])
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


def test_a_pm_without_log_access_control_gets_404_everywhere(world, client):
    image = make_image(world.device_a)
    client.force_login(world.pm_a)
    for name in PAGES:
        assert client.get(_url(name, world.community_a)).status_code == 404
        assert client.get(_url(name, world.community_a, export="csv")).status_code == 404
    file_url = reverse("logs:capturedimage_file", args=[world.community_a.pk, image.pk])
    assert client.get(file_url).status_code == 404
    _grant(world)
    for name in PAGES:
        assert client.get(_url(name, world.community_a)).status_code == 200
    response = client.get(file_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    assert response["Content-Type"] == "image/jpeg" and "private" in response["Cache-Control"]


def test_a_pm_of_one_community_never_sees_anothers_events(world, client):
    """Community A2 is installer A's too, but pm_a is not assigned there."""
    from devices.models import Device

    _grant(world)
    make_door_event(world.device_a, "mine", credential="1111")
    other_device = Device.objects.filter(community=world.community_a2).first() or world.device_b
    theirs = make_image(other_device, "theirs", credential="2222")
    client.force_login(world.pm_a)
    body = client.get(_url("logs:door_log", world.community_a)).content.decode()
    assert "1111" in body and "2222" not in body
    export = client.get(_url("logs:door_log", world.community_a, export="csv"))
    text = b"".join(export.streaming_content).decode()
    assert "1111" in text and "2222" not in text
    # The other community's pages and its image, even through this community's URL: 404.
    assert client.get(_url("logs:door_log", theirs.community)).status_code == 404
    for community in (theirs.community, world.community_a):
        url = reverse("logs:capturedimage_file", args=[community.pk, theirs.pk])
        assert client.get(url).status_code == 404
    # Installer B reads none of A's.
    client.force_login(world.installer_b)
    assert client.get(_url("logs:door_log", world.community_a)).status_code == 404


def test_the_dashboards_recent_door_events_follow_log_access_control(world):
    make_door_event(world.device_a, "a1")
    make_door_event(world.device_b, "b1")
    communities = [world.community_a, world.community_b]
    with CaptureQueriesContext(connection) as ctx:
        events = selectors.recent_door_events(world.installer_a, communities, 10)
    assert [e.event_id for e in events] == ["a1"] and len(ctx.captured_queries) == 1
    assert selectors.recent_door_events(world.pm_a, communities, 10) == []
    _grant(world)
    with CaptureQueriesContext(connection) as ctx:
        assert [e.event_id for e in selectors.recent_door_events(world.pm_a, communities, 10)] == ["a1"]
    assert len(ctx.captured_queries) == 1


def test_filters_and_seek_pages(world, client):
    for i in range(120):
        make_door_event(
            world.device_a,
            f"e{i}",
            minutes_ago=i,
            result="refused" if i % 10 == 0 else "success",
            method="rf_card" if i % 2 else "pin",
        )
    client.force_login(world.installer_a)
    response = client.get(_url("logs:door_log", world.community_a))
    page = response.context["page"]
    assert [e.event_id for e in page.rows][:2] == ["e0", "e1"] and len(page.rows) == 50
    assert page.newer is None and page.older
    seen = [e.event_id for e in page.rows]
    while page.older:
        page = client.get(_url("logs:door_log", world.community_a, older=page.older)).context["page"]
        seen += [e.event_id for e in page.rows]
    assert seen == [f"e{i}" for i in range(120)]  # every row once, in order
    # Back to newer from the last page.
    back = client.get(_url("logs:door_log", world.community_a, newer=page.newer)).context["page"]
    assert [e.event_id for e in back.rows] == [f"e{i}" for i in range(50, 100)]
    refused = client.get(_url("logs:door_log", world.community_a, result="refused")).context["page"]
    assert {e.result for e in refused.rows} == {"refused"} and len(refused.rows) == 12
    cards = client.get(_url("logs:door_log", world.community_a, method="rf_card")).context["page"]
    assert {e.method for e in cards.rows} == {"rf_card"}
    device = client.get(_url("logs:door_log", world.community_a, device=world.device_a.pk)).context["page"]
    assert len(device.rows) == 50
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    none = client.get(_url("logs:door_log", world.community_a, start=tomorrow.isoformat())).context["page"]
    assert none.rows == []
    assert client.get(_url("logs:door_log", world.community_a, apt="nope")).context["page"].rows == []


def test_the_apt_filter_and_the_resident_column(world, client):
    make_door_event(world.device_a, "apt", apartment_id=world.apartment_a.pk, resident_name="Lily Zheng")
    make_door_event(world.device_a, "public", apartment_id=None)
    client.force_login(world.installer_a)
    page = client.get(_url("logs:door_log", world.community_a, apt=world.apartment_a.number)).context["page"]
    assert [e.event_id for e in page.rows] == ["apt"]
    body = client.get(_url("logs:door_log", world.community_a)).content.decode()
    assert "Lily Zheng" in body


def test_exports_stream_every_filtered_row(world, client):
    for i in range(7):
        make_door_event(world.device_a, f"e{i}", minutes_ago=i, result="refused" if i < 3 else "success")
    client.force_login(world.installer_a)
    response = client.get(_url("logs:door_log", world.community_a, export="csv", result="refused"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Time" and len(rows) == 4 and {r[-1] for r in rows[1:]} == {"Refused"}
    response = client.get(_url("logs:door_log", world.community_a, export="xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 8


def _queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_cost_the_same_queries_for_3_and_60_rows(world, client):
    client.force_login(world.installer_a)
    for i in range(3):
        make_image(world.device_a, f"i{i}", apartment_id=world.apartment_a.pk)
        CallEvent.objects.create(
            community=world.community_a,
            device=world.device_a,
            occurred_at=timezone.now(),
            event_id=f"c{i}",
            caller="a",
            callee="b",
            apartment_id=world.apartment_a.pk,
        )
    small = {name: _queries(client, _url(name, world.community_a)) for name in PAGES}
    for i in range(3, 60):
        make_image(world.device_a, f"i{i}", apartment_id=world.apartment_a.pk)
        CallEvent.objects.create(
            community=world.community_a,
            device=world.device_a,
            occurred_at=timezone.now(),
            event_id=f"c{i}",
            caller="a",
            callee="b",
            apartment_id=world.apartment_a.pk,
        )
    large = {name: _queries(client, _url(name, world.community_a)) for name in PAGES}
    assert small == large
    # And no COUNT over the log.
    with CaptureQueriesContext(connection) as ctx:
        client.get(_url("logs:door_log", world.community_a))
    assert not [
        q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and "logs_" in q["sql"]
    ]


def test_reset_removes_the_apts_logs_and_images_not_the_audit(world, django_capture_on_commit_callbacks):
    from residents.services import apartment_reset
    from smartplus.models import AuditLog

    image = make_image(world.device_a, "mine", apartment_id=world.apartment_a.pk)
    make_door_event(world.device_a, "public", apartment_id=None)
    CallEvent.objects.create(
        community=world.community_a,
        device=world.device_a,
        occurred_at=timezone.now(),
        event_id="c",
        caller="a",
        callee="b",
        apartment_id=world.apartment_a.pk,
    )
    name = image.image.name
    audits = AuditLog.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        removed = apartment_reset(actor=world.installer_a, apartment=world.apartment_a)
    assert removed["door logs"] >= 1 and removed["call histories"] == 1 and removed["captured images"] == 1
    assert list(DoorEvent.objects.values_list("event_id", flat=True)) == ["public"]
    assert not CallEvent.objects.exists() and not CapturedImage.objects.exists()
    assert not private_storage.exists(name)
    assert AuditLog.objects.count() > audits  # the reset is audited, the audit stays


def test_retention_purges_old_events_in_batches(world, settings, django_capture_on_commit_callbacks):
    settings.SMARTPLUS_LOG_RETENTION_DAYS = 30
    old = make_image(world.device_a, "old", minutes_ago=31 * 24 * 60)
    for i in range(5):
        make_door_event(world.device_a, f"old{i}", minutes_ago=40 * 24 * 60)
    make_door_event(world.device_a, "new")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.events_purge_expired(batch_size=3) == 4  # the image, then 3 events
    assert not private_storage.exists(old.image.name)
    with django_capture_on_commit_callbacks(execute=True):
        services.events_purge_expired(batch_size=3)
        services.events_purge_expired(batch_size=3)
    assert list(DoorEvent.objects.values_list("event_id", flat=True)) == ["new"]
    settings.SMARTPLUS_LOG_RETENTION_DAYS = 0
    assert services.events_purge_expired() == 0


def test_beat_schedules_the_retention_purge(settings):
    assert settings.CELERY_BEAT_SCHEDULE["logs-retention"]["task"] == "logs.tasks.retention_purge_task"


def test_log_access_control_governs_every_log_model(world):
    from smartplus import authz, roles

    for model in (DoorEvent, CallEvent, CapturedImage):
        assert authz.can(world.installer_a, roles.VIEW, model, parent=world.community_a)
        assert authz.can(world.sub_a, roles.VIEW, model, parent=world.community_a)
        assert not authz.can(world.pm_a, roles.VIEW, model, parent=world.community_a)
        assert not authz.can(world.installer_b, roles.VIEW, model, parent=world.community_a)
        assert not authz.can(world.distributor_a, roles.VIEW, model, parent=world.community_a)
    _grant(world)
    for model in (DoorEvent, CallEvent, CapturedImage):
        assert authz.can(world.pm_a, roles.VIEW, model, parent=world.community_a)
        assert not authz.can(world.pm_a, roles.VIEW, model, parent=world.community_a2)
