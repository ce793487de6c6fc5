"""Time zone choices labelled with their current GMT offset, as the product's drop-downs show them."""

from __future__ import annotations

import datetime
import functools
import zoneinfo


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    now = datetime.datetime.now(datetime.UTC)
    rows = []
    for name in zoneinfo.available_timezones():
        if name.startswith(("Etc/", "SystemV/", "posix/", "right/")) or ("/" not in name and name != "UTC"):
            continue
        offset = now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() or datetime.timedelta()
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        label = f"GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d} {name}"
        rows.append((minutes, name, label))
    rows.sort()
    return [(name, label) for _, name, label in rows]
