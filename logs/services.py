"""Writes of the logs: events a device sends (deduplicated, all or nothing), their images, an
APT's reset, and retention.

Devices act as themselves, not as a person: the device API authenticates the device and these
services store only that device's events, in its community. No portal user writes logs."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from devices import hooks as device_hooks
from devices.fleet import Refused
from devices.models import Device
from residents.models import Resident

from .choices import DoorMethod, DoorResult, EventKind
from .models import CallEvent, CapturedImage, DoorEvent, private_storage

# A device may report events from the past (it buffered them while offline), never far ahead.
FUTURE_SLACK = dt.timedelta(hours=24)
JPEG_START, JPEG_END = b"\xff\xd8\xff", b"\xff\xd9"
EVENT_FIELDS = {
    EventKind.DOOR: {"type", "id", "time", "relay", "method", "credential", "result", "user_id", "mac"},
    EventKind.CALL: {"type", "id", "time", "caller", "callee", "duration", "answered", "user_id", "mac"},
}


@dataclass(frozen=True)
class Sender:
    """The authenticated device, as the events need it."""

    pk: int
    mac: str
    community_id: int
    apartment_id: int | None
    name: str


def sender_for(device_pk: int, mac: str) -> Sender:
    row = Device.objects.filter(pk=device_pk).values_list("community_id", "apartment_id", "name").first()
    if row is None:  # deleted between authentication and here
        raise Refused(401, "unauthorized", "Unknown device or wrong secret.")
    return Sender(device_pk, mac, *row)


def _bad(index: int, field: str, message: str) -> Refused:
    return Refused(400, f"bad_{field}", f"events[{index}].{field}: {message}")


def _text(event: dict, index: int, field: str, max_length: int, *, required: bool = False) -> str:
    value = event.get(field)
    if value is None or value == "":
        if required:
            raise _bad(index, field, "is required.")
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise _bad(index, field, f"must be a string of at most {max_length} characters.")
    return value


def _int(event: dict, index: int, field: str, low: int, high: int) -> int | None:
    value = event.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(index, field, f"must be a whole number from {low} to {high}.")
    return value


def _time(event: dict, index: int, now: dt.datetime) -> dt.datetime:
    raw = _text(event, index, "time", 40, required=True)
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise _bad(index, "time", "must be an ISO 8601 time with its UTC offset.")
    if value > now + FUTURE_SLACK:
        raise _bad(index, "time", "lies in the future.")
    return value


def _choice(event: dict, index: int, field: str, choices) -> str:
    value = _text(event, index, field, 16, required=True)
    if value not in choices.values:
        raise _bad(index, field, f"must be one of {', '.join(choices.values)}.")
    return value


def _validated(sender: Sender, events, now: dt.datetime) -> list[tuple[str, dict, int | None]]:
    """(kind, fields, user_id) per event, or Refused for the first fault: nothing is stored."""
    if not isinstance(events, list) or not events:
        raise Refused(400, "bad_events", "events must be a non-empty list.")
    if len(events) > settings.SMARTPLUS_EVENT_BATCH_MAX:
        raise Refused(
            413, "too_many_events", f"Send at most {settings.SMARTPLUS_EVENT_BATCH_MAX} events per batch."
        )
    seen: set[tuple[str, str]] = set()
    rows = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise Refused(400, "bad_events", f"events[{index}] must be an object.")
        kind = event.get("type")
        if kind not in EVENT_FIELDS:
            raise _bad(index, "type", "must be door or call.")
        unknown = set(event) - EVENT_FIELDS[kind]
        if unknown:
            raise _bad(index, sorted(unknown)[0], "is not a field of this event.")
        mac = event.get("mac")
        if mac is not None and (
            not isinstance(mac, str) or mac.replace(":", "").replace("-", "").upper() != sender.mac
        ):
            # A device reports what happened at its own doors: another device's events are refused.
            raise Refused(403, "foreign_device", f"events[{index}] is another device's event.")
        event_id = _text(event, index, "id", 64, required=True)
        if (kind, event_id) in seen:
            raise _bad(index, "id", "appears twice in this batch.")
        seen.add((kind, event_id))
        fields = {"event_id": event_id, "occurred_at": _time(event, index, now)}
        if kind == EventKind.DOOR:
            fields |= {
                "relay": _int(event, index, "relay", 1, 4),
                "method": _choice(event, index, "method", DoorMethod),
                "credential": _text(event, index, "credential", 64),
                "result": _choice(event, index, "result", DoorResult),
            }
        else:
            answered = event.get("answered", False)
            if not isinstance(answered, bool):
                raise _bad(index, "answered", "must be true or false.")
            fields |= {
                "caller": _text(event, index, "caller", 128, required=True),
                "callee": _text(event, index, "callee", 128, required=True),
                "duration": _int(event, index, "duration", 0, 86_400) or 0,
                "answered": answered,
            }
        rows.append((kind, fields, _int(event, index, "user_id", 1, 2**62)))
    return rows


def events_ingest(*, sender: Sender, events) -> dict[str, int]:
    """Store a device's batch: validated whole first (one fault refuses the batch), then written
    in one transaction with ON CONFLICT DO NOTHING on (device, event_id), so a batch sent again
    (a lost reply) stores each event once. Returns how many events were received per kind."""
    now = timezone.now()
    rows = _validated(sender, events, now)
    user_ids = {user_id for _, _, user_id in rows if user_id}
    residents = {}
    if user_ids:
        # A UserID of the user list the portal gave the device (access's credentials) names its
        # resident; any other id is taken as a resident id. Only residents of the device's
        # community: an id from elsewhere names nobody here.
        behind = device_hooks.event_residents(sender, user_ids)
        wanted = {behind.get(user_id, user_id) for user_id in user_ids}
        found = {
            r.pk: r
            for r in Resident.objects.filter(pk__in=wanted, apartment__community_id=sender.community_id).only(
                "pk", "apartment_id", "first_name", "last_name"
            )
        }
        residents = {user_id: found.get(behind.get(user_id, user_id)) for user_id in user_ids}
    common = {"community_id": sender.community_id, "device_id": sender.pk, "device_name": sender.name}
    doors, calls = [], []
    for kind, fields, user_id in rows:
        resident = residents.get(user_id)
        apartment_id = resident.apartment_id if resident else sender.apartment_id
        if kind == EventKind.DOOR:
            doors.append(
                DoorEvent(
                    **common,
                    **fields,
                    apartment_id=apartment_id,
                    resident_id=resident.pk if resident else None,
                    resident_name=resident.display_name if resident else "",
                )
            )
        else:
            calls.append(CallEvent(**common, **fields, apartment_id=apartment_id))
    with transaction.atomic():
        if doors:
            DoorEvent.objects.bulk_create(doors, ignore_conflicts=True)
        if calls:
            CallEvent.objects.bulk_create(calls, ignore_conflicts=True)
    return {"door": len(doors), "call": len(calls)}


THUMBNAIL_SIZE = (320, 240)
MAX_PIXELS = 40_000_000  # a 1 MB JPEG claiming more is a decompression bomb, not a photo


def _thumbnail(content: bytes) -> bytes:
    """A small JPEG of the capture; decoding it whole also proves the upload is a JPEG."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format != "JPEG" or image.width * image.height > MAX_PIXELS:
                raise Refused(415, "not_jpeg", "The image must be a JPEG photo.")
            image.load()
            image.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Refused(415, "not_jpeg", "The image must be a JPEG that can be read.") from exc


def event_image_store(
    *, sender: Sender, kind: str, event_id: str, content: bytes
) -> tuple[CapturedImage, bool]:
    """The JPEG a device took at one of its own events; sent again, the first one stays.
    Returns the image and whether it was new."""
    if len(content) > settings.SMARTPLUS_CAPTURE_MAX_BYTES:
        raise Refused(
            413, "too_large", f"An image may be at most {settings.SMARTPLUS_CAPTURE_MAX_BYTES} bytes."
        )
    if len(content) < 8 or not content.startswith(JPEG_START) or not content.rstrip(b"\0").endswith(JPEG_END):
        raise Refused(415, "not_jpeg", "The image must be a JPEG.")
    model = DoorEvent if kind == EventKind.DOOR else CallEvent
    event = model.objects.filter(device_id=sender.pk, event_id=event_id).first()
    if event is None:
        raise Refused(404, "not_found", "This device sent no such event yet; send the event first.")
    link = {"door_event": event} if kind == EventKind.DOOR else {"call_event": event}
    existing = CapturedImage.objects.filter(**link).first()
    if existing is not None:
        return existing, False
    small = _thumbnail(content)
    stem = f"{event.occurred_at:%Y/%m/%d}/{sender.pk}-{kind}-{event.pk}"
    name = private_storage.save(f"{stem}.jpg", ContentFile(content))
    thumbnail = private_storage.save(f"{stem}-thumb.jpg", ContentFile(small))
    try:
        with transaction.atomic():
            image = CapturedImage.objects.create(
                community_id=event.community_id,
                device_id=sender.pk,
                device_name=event.device_name,
                apartment_id=event.apartment_id,
                occurred_at=event.occurred_at,
                image=name,
                thumbnail=thumbnail,
                size=len(content),
                **link,
            )
    except IntegrityError:  # the same image arrived twice at once: the other one stays
        _remove_files([name, thumbnail])
        return CapturedImage.objects.get(**link), False
    return image, True


# --- removal: an APT's reset, retention ----------------------------------------------------------


def _delete_images(queryset) -> int:
    """Delete image rows and, once committed, their files."""
    names = [name for pair in queryset.values_list("image", "thumbnail") for name in pair if name]
    if not names:
        return 0
    count = queryset._raw_delete(queryset.db)
    transaction.on_commit(partial(_remove_files, names))
    return count


def _remove_files(names: list[str]) -> None:
    for name in names:
        private_storage.delete(name)


def apartment_logs_reset(apartment) -> dict[str, int]:
    """The reset's "Logs (audit logs excluded) and histories": the APT's door log, call
    history and captured images (residents.hooks.apartment_resetting)."""
    images = _delete_images(CapturedImage.objects.filter(apartment=apartment))
    # The images of these events are gone already: a raw DELETE, no cascade collector.
    doors = DoorEvent.objects.filter(apartment=apartment)
    calls = CallEvent.objects.filter(apartment=apartment)
    return {
        str(CapturedImage._meta.verbose_name_plural): images,
        str(DoorEvent._meta.verbose_name_plural): doors._raw_delete(doors.db),
        str(CallEvent._meta.verbose_name_plural): calls._raw_delete(calls.db),
    }


def events_purge_expired(*, batch_size: int = 5_000, now: dt.datetime | None = None) -> int:
    """Delete one batch of events (and images) older than SMARTPLUS_LOG_RETENTION_DAYS, oldest
    first; returns how many rows went. Safe to run twice: a second run finds the next batch."""
    days = settings.SMARTPLUS_LOG_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    removed = 0
    for model in (CapturedImage, DoorEvent, CallEvent):
        with transaction.atomic():
            ids = list(
                model.objects.filter(occurred_at__lt=cutoff)
                .order_by("occurred_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                continue
            if model is CapturedImage:
                removed += _delete_images(CapturedImage.objects.filter(pk__in=ids))
                continue
            # An old event's image is older still, so it went above; any left goes with it.
            link = "door_event_id__in" if model is DoorEvent else "call_event_id__in"
            _delete_images(CapturedImage.objects.filter(**{link: ids}))
            batch = model.objects.filter(pk__in=ids)
            removed += batch._raw_delete(batch.db)
    return removed
