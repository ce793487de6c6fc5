"""Helpers of the logs' tests: a registered device posting events, and events written fast."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone

from tests.devices.deviceapi import FakeDevice

# The smallest JPEG a browser shows: start and end markers around one tiny frame.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912"
    "130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b0800"
    "01000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002"
    "010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f024"
    "33627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768"
    "696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3"
    "c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fb"
    "d3ffd9"
)


def registered(device) -> FakeDevice:
    fake = FakeDevice(device.mac_address.mac)
    assert fake.register().status_code == 201
    return fake


def door(event_id: str, *, minutes_ago: int = 1, **extra) -> dict:
    when = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return {
        "type": "door",
        "id": event_id,
        "time": when.isoformat(),
        "relay": 1,
        "method": "pin",
        "credential": "1234",
        "result": "success",
        **extra,
    }


def call(event_id: str, *, minutes_ago: int = 1, **extra) -> dict:
    when = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return {
        "type": "call",
        "id": event_id,
        "time": when.isoformat(),
        "caller": "Alpha Gate",
        "callee": "Lily Zheng",
        "duration": 30,
        "answered": True,
        **extra,
    }


def post_events(fake: FakeDevice, events, **auth):
    return fake.client.post(
        "/device-api/v1/events",
        json.dumps({"events": events}),
        content_type="application/json",
        **(auth or fake.auth()),
    )


def post_image(fake: FakeDevice, kind: str, event_id: str, content: bytes = JPEG, content_type="image/jpeg"):
    return fake.client.post(
        f"/device-api/v1/events/{kind}/{event_id}/image", content, content_type=content_type, **fake.auth()
    )


def make_door_event(device, event_id: str = "e1", *, minutes_ago: int = 1, **fields):
    from logs.models import DoorEvent

    values = {
        "community_id": device.community_id,
        "device": device,
        "device_name": device.name,
        "apartment_id": device.apartment_id,
        "occurred_at": timezone.now() - dt.timedelta(minutes=minutes_ago),
        "event_id": event_id,
        "method": "pin",
        "result": "success",
        "relay": 1,
        "credential": "1234",
    } | fields
    return DoorEvent.objects.create(**values)


def make_image(device, event_id: str = "img1", content: bytes = JPEG, **fields):
    """A door event of `device` with its captured JPEG in the private storage."""
    from django.core.files.base import ContentFile

    from logs.models import CapturedImage, private_storage

    event = make_door_event(device, event_id, **fields)
    name = private_storage.save(f"test/{device.pk}-{event.pk}.jpg", ContentFile(content))
    return CapturedImage.objects.create(
        community_id=event.community_id,
        device=device,
        device_name=device.name,
        apartment_id=event.apartment_id,
        door_event=event,
        image=name,
        size=len(content),
        occurred_at=event.occurred_at,
    )
