"""Dates and times as a community shows them: its time zone, time format and date format."""

from __future__ import annotations

import zoneinfo

from django.utils import dateformat

from .choices import TimeFormat

EMPTY = "--"


def community_datetime(value, community) -> str:
    if value is None:
        return EMPTY
    try:
        zone = zoneinfo.ZoneInfo(community.time_zone or "UTC")
    except zoneinfo.ZoneInfoNotFoundError:
        zone = zoneinfo.ZoneInfo("UTC")
    time = "h:i:s A" if community.time_format == TimeFormat.H12 else "H:i:s"
    return dateformat.format(value.astimezone(zone), f"{community.date_format} {time}")
