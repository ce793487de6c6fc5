"""Event ingestion on the device API: deduplicated, own events only, all or nothing."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from logs.choices import DoorMethod, DoorResult
from logs.models import CallEvent, CapturedImage, DoorEvent
from tests.factories import build_world
from tests.logs.support import JPEG, call, door, post_events, post_image, registered

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path, settings):
    settings.SMARTPLUS_LOG_IMAGE_ROOT = tmp_path / "captures"
    return build_world()


def test_a_batch_sent_twice_stores_each_event_once(world):
    fake = registered(world.device_a)
    batch = [door("d1"), door("d2", result="refused", credential="9999"), call("c1")]
    for _ in range(2):
        response = post_events(fake, batch)
        assert response.status_code == 200, response.content
        assert response.json()["received"] == {"door": 2, "call": 1}
    assert DoorEvent.objects.count() == 2 and CallEvent.objects.count() == 1
    refused = DoorEvent.objects.get(event_id="d2")
    assert (refused.result, refused.method, refused.credential) == (
        DoorResult.REFUSED,
        DoorMethod.PIN,
        "9999",
    )
    assert refused.community_id == world.community_a.pk and refused.device_name == world.device_a.name


def test_the_resident_named_by_the_device_is_shown_and_gives_the_apt(world):
    fake = registered(world.device_a)
    post_events(
        fake, [door("d1", user_id=world.resident_a.pk), door("d2", user_id=world.apartment_b.pk + 10**9)]
    )
    named = DoorEvent.objects.get(event_id="d1")
    assert named.resident_id == world.resident_a.pk
    assert named.resident_name == world.resident_a.display_name
    assert named.apartment_id == world.resident_a.apartment_id
    # A resident of another community is nobody here: stored without a name.
    assert DoorEvent.objects.get(event_id="d2").resident_id is None


def test_a_resident_of_another_community_is_not_attached(world):
    fake = registered(world.device_a)
    from residents.models import Resident

    foreign = Resident.objects.filter(apartment=world.apartment_b).first()
    post_events(fake, [door("d1", user_id=foreign.pk)])
    event = DoorEvent.objects.get(event_id="d1")
    assert (event.resident_id, event.resident_name) == (None, "")


def test_a_device_cannot_send_another_devices_events(world):
    fake = registered(world.device_a)
    other = world.device_b.mac_address.mac
    response = post_events(fake, [door("d1"), door("d2", mac=other)])
    assert response.status_code == 403 and response.json()["error"] == "foreign_device"
    assert not DoorEvent.objects.exists()
    # Its own MAC, written with separators, is its own.
    mac = world.device_a.mac_address.mac
    spaced = ":".join(mac[i : i + 2] for i in range(0, 12, 2))
    assert post_events(fake, [door("d1", mac=spaced)]).status_code == 200


def test_a_wrong_secret_is_401_and_nothing_stored(world):
    fake = registered(world.device_a)
    response = post_events(fake, [door("d1")], **fake.auth(secret="0" * 32))
    assert response.status_code == 401 and response.json()["error"]
    assert not DoorEvent.objects.exists()


@pytest.mark.parametrize(
    "bad, code",
    [
        ({"method": "telepathy"}, "bad_method"),
        ({"result": "maybe"}, "bad_result"),
        ({"time": "yesterday"}, "bad_time"),
        ({"time": "2026-01-01T10:00:00"}, "bad_time"),  # no UTC offset
        ({"time": "2999-01-01T10:00:00+00:00"}, "bad_time"),
        ({"relay": 9}, "bad_relay"),
        ({"relay": True}, "bad_relay"),
        ({"id": ""}, "bad_id"),
        ({"id": "x" * 65}, "bad_id"),
        ({"credential": 1234}, "bad_credential"),
        ({"surprise": 1}, "bad_surprise"),
        ({"type": "alarm"}, "bad_type"),
    ],
)
def test_a_malformed_event_refuses_the_whole_batch(world, bad, code):
    fake = registered(world.device_a)
    response = post_events(fake, [door("good"), door("bad") | bad])
    assert response.status_code == 400, response.content
    assert response.json()["error"] == code and "events[1]" in response.json()["message"]
    assert not DoorEvent.objects.exists()


def test_malformed_bodies_get_json_errors(world):
    fake = registered(world.device_a)
    url = "/device-api/v1/events"
    cases = [
        (b"not json", "application/json", 400),
        (b'{"events": []}', "application/json", 400),
        (b'{"events": "x"}', "application/json", 400),
        (b'{"events": [1]}', "application/json", 400),
        (b'{"events": [], "other": 1}', "application/json", 400),
        (b'{"events": []}', "text/plain", 415),
    ]
    for body, content_type, status in cases:
        response = fake.client.post(url, body, content_type=content_type, **fake.auth())
        assert response.status_code == status, (body, response.content)
        assert response["Content-Type"] == "application/json" and response.json()["error"]
    assert fake.client.get(url, **fake.auth()).status_code == 405
    assert not DoorEvent.objects.exists()


@override_settings(SMARTPLUS_EVENT_BATCH_MAX=5)
def test_too_many_events_or_too_many_bytes_are_413(world, settings):
    fake = registered(world.device_a)
    response = post_events(fake, [door(f"d{i}") for i in range(6)])
    assert response.status_code == 413 and response.json()["error"] == "too_many_events"
    settings.SMARTPLUS_EVENT_BODY_MAX = 1000
    response = post_events(fake, [door(f"d{i}", credential="x" * 60) for i in range(5)])
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert not DoorEvent.objects.exists()


def test_a_duplicate_id_inside_one_batch_is_refused(world):
    fake = registered(world.device_a)
    response = post_events(fake, [door("d1"), door("d1")])
    assert response.status_code == 400 and not DoorEvent.objects.exists()


def test_an_image_is_stored_once_for_an_event_of_the_device(world):
    fake = registered(world.device_a)
    post_events(fake, [door("d1"), call("c1")])
    first = post_image(fake, "door", "d1")
    assert first.status_code == 201, first.content
    again = post_image(fake, "door", "d1")
    assert again.status_code == 200 and again.json()["image"] == first.json()["image"]
    assert post_image(fake, "call", "c1").status_code == 201
    image = CapturedImage.objects.get(door_event__event_id="d1")
    with image.image.open("rb") as handle:
        assert handle.read() == JPEG
    assert CapturedImage.objects.count() == 2


def test_images_that_are_not_jpegs_or_too_large_or_of_unknown_events_are_refused(world, settings):
    fake = registered(world.device_a)
    post_events(fake, [door("d1")])
    assert post_image(fake, "door", "d1", b"\x89PNG\r\n\x1a\n" + b"0" * 50).status_code == 415
    assert post_image(fake, "door", "d1", JPEG, content_type="image/png").status_code == 415
    assert post_image(fake, "door", "nope").status_code == 404
    assert post_image(fake, "call", "d1").status_code == 404
    settings.SMARTPLUS_CAPTURE_MAX_BYTES = 100
    assert post_image(fake, "door", "d1").status_code == 413
    # Another device's event is not found for this one.
    other = registered(world.device_b)
    settings.SMARTPLUS_CAPTURE_MAX_BYTES = 10**6
    assert post_image(other, "door", "d1").status_code == 404
    assert not CapturedImage.objects.exists()


def test_the_device_service_urlconf_answers_events(world, settings):
    settings.ROOT_URLCONF = "smartplus.device_urls"
    fake = registered(world.device_a)
    response = post_events(fake, [door("d1")])
    assert response.status_code == 200 and json.loads(response.content)["ok"] is True


def test_an_image_gets_a_thumbnail_and_a_fake_jpeg_is_refused(world, client):
    import io

    from PIL import Image

    fake = registered(world.device_a)
    post_events(fake, [door("d1"), door("d2")])
    photo = io.BytesIO()
    Image.new("RGB", (1280, 960), "teal").save(photo, "JPEG")
    assert post_image(fake, "door", "d1", photo.getvalue()).status_code == 201
    image = CapturedImage.objects.get(door_event__event_id="d1")
    with image.thumbnail.open("rb") as handle:
        small = Image.open(io.BytesIO(handle.read()))
        assert small.format == "JPEG" and max(small.size) <= 320
    # The markers alone are not a JPEG: nothing is stored.
    forged = b"\xff\xd8\xff" + b"<script>alert(1)</script>" * 10 + b"\xff\xd9"
    response = post_image(fake, "door", "d2", forged)
    assert response.status_code == 415 and response.json()["error"] == "not_jpeg"
    assert CapturedImage.objects.count() == 1
    client.force_login(world.installer_a)
    from django.urls import reverse

    url = reverse("logs:capturedimage_file", args=[world.community_a.pk, image.pk])
    thumb = b"".join(client.get(url, {"thumb": "1"}).streaming_content)
    full = b"".join(client.get(url).streaming_content)
    assert len(thumb) < len(full) and full == photo.getvalue()
