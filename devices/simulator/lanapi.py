"""What a simulated intercom answers on its LAN HTTP API, call by call, as Akuvox firmware does.

The request shapes and field names follow the public Akuvox HTTP API manuals and the client
libraries written against real devices (sources in docs/device-api.md): `/api/<target>/<action>`,
`{"target", "action", "data"}` bodies (or the bare data), paged lists of ten as
`{"num", "curPageNum", "item": [...]}`, users with `Name`, `UserID`, `PrivatePIN`, `CardCode`,
`ScheduleRelay` ..., and the reply envelope `{"retcode", "action", "message", "data"}`.
This module holds the device's local data and the answers; `lan.py` serves them over HTTP.
"""

from __future__ import annotations

import asyncio
import calendar
import re
import time
from dataclasses import dataclass, field
from typing import Protocol

PAGE_SIZE = 10  # what the devices serve per page
RELAYS = "ABC"  # relay 1 is RelayA, ...
# Schedules every device has from the factory; they cannot be changed or deleted.
BUILT_IN_SCHEDULES = {
    "1001": {"Name": "Always", "Type": "2", "Daily": "00:00-23:59", "Week": "0123456"},
    "1002": {"Name": "Never", "Type": "2", "Daily": "00:00-00:00", "Week": ""},
}
DEFAULT_HOLD_DELAY = 5

_PIN = re.compile(r"^[0-9]{4,8}$")
_SCHEDULE_RELAY = re.compile(r"^([0-9]+-[0-9]+[;,]?)+$")
_DATE = re.compile(r"^[0-9]{8}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_DAILY = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$")
_WEEK = re.compile(r"^[0-6]*$")
_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thur", "Fri", "Sat")

USER_FIELDS = ("Name", "UserID", "PrivatePIN", "CardCode", "WebRelay", "ScheduleRelay", "LiftFloorNum")
SCHEDULE_FIELDS = ("Name", "Type", "DateStart", "DateEnd", "TimeStart", "TimeEnd", "Daily", "Week")
UNSUPPORTED = "No handlers for this request"  # what real firmware answers for an unknown API


class ApiError(Exception):
    """A call the device refuses: answered with retcode -1 and this message."""


class DeviceFace(Protocol):
    """What the API needs of a device."""

    mac: str
    model: str
    firmware_version: str
    lan_address: str
    config: dict[str, str]
    booted_at: float
    local: LocalData

    def nudge(self) -> None: ...

    def request_reboot(self) -> None: ...


@dataclass
class LocalData:
    """What the device keeps in its own flash besides the cloud's secret: users, schedules, logs
    and relay states. A factory reset replaces it with a fresh one."""

    users: dict[str, dict] = field(default_factory=dict)
    schedules: dict[str, dict] = field(default_factory=dict)
    door_log: list[dict] = field(default_factory=list)
    call_log: list[dict] = field(default_factory=list)
    relays: dict[int, bool] = field(default_factory=dict)  # relay number -> open
    weather: dict = field(default_factory=dict)  # the last weather command, on the home screen
    # The portal's credential list as last fetched (a `users` command): its version and mode.
    users_version: int = 0
    pin_mode: str = "pin"
    # Every entry tried at the door (PIN typed, card read), granted or refused, oldest first:
    # {"id", "time", "method", "code", "apt", "relay", "result", "reason", "user_id", "name"}.
    attempts: list[dict] = field(default_factory=list)
    next_user: int = 1
    next_schedule: int = 1
    next_log: int = 1


def _stamp(value) -> float | None:
    """ "2026-12-02T15:00:00Z" as epoch seconds; None for empty."""
    if not value:
        return None
    try:
        return calendar.timegm(time.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def colon_mac(mac: str) -> str:
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


def _page(items: list[dict], data: dict, query: dict) -> dict:
    raw = data.get("page", query.get("page", 1))
    try:
        page = max(1, int(raw))
    except (TypeError, ValueError) as exc:
        raise ApiError("Error param: page") from exc
    chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {"num": len(items), "curPageNum": page, "item": [dict(i) for i in chunk]}


def _items(data: dict) -> list[dict]:
    """Mutations carry `{"item": [...]}`; a bare object is one item."""
    items = data.get("item", [data])
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ApiError("Error param: item")
    return items


def _text(item: dict, key: str) -> str | None:
    value = item.get(key)
    return None if value is None else str(value)


class LanApi:
    """The calls of one device. `call` returns the reply's data or raises ApiError."""

    def __init__(self, device: DeviceFace, *, clock=time.time) -> None:
        self.device = device
        self.clock = clock

    @property
    def local(self) -> LocalData:
        return self.device.local

    def call(self, target: str, action: str, data: dict, query: dict, method: str) -> dict:
        handler = getattr(self, f"_{target}_{action}", None)
        if handler is None or target.startswith("_"):
            raise ApiError(UNSUPPORTED)
        if method != "POST" and action not in ("info", "status", "get"):
            raise ApiError(f"{target}/{action} needs POST")
        return handler(data, query) or {}

    # -- system ---------------------------------------------------------------------------------

    def _system_info(self, data, query) -> dict:
        d = self.device
        uptime = int(self.clock() - d.booted_at)
        return {
            "Status": {
                "Model": d.model,
                "MAC": colon_mac(d.mac),
                "FirmwareVersion": d.firmware_version,
                "HardwareVersion": f"{d.firmware_version.split('.', 1)[0]}.0",
                "Uptime": f"{uptime // 86400}d {uptime % 86400 // 3600}h {uptime % 3600 // 60}m",
                "WebLang": 0,
            },
            "Lan": {"IPAddress": d.lan_address, "SubnetMask": "255.255.0.0", "LinkStatus": "Connected"},
        }

    def _system_status(self, data, query) -> dict:
        now = self.clock()
        return {"SystemTime": int(now), "UpTime": int(now - self.device.booted_at)}

    def _system_reboot(self, data, query) -> None:
        self.device.request_reboot()  # after this reply has gone out

    def _weather_get(self, data, query) -> dict:
        """What the home screen shows: the last weather the portal sent ({} before any)."""
        return dict(self.local.weather)

    def _cloud_poll(self, data, query) -> None:
        """Not Akuvox's: the portal's "heartbeat now" (docs/device-api.md)."""
        self.device.nudge()

    # -- config ---------------------------------------------------------------------------------

    def config(self) -> dict[str, str]:
        defaults = {f"Config.DoorSetting.RELAY.HoldDelay{r}": str(DEFAULT_HOLD_DELAY) for r in RELAYS}
        defaults.update({f"Config.DoorSetting.RELAY.Name{r}": f"Relay{r}" for r in RELAYS})
        defaults["Config.DoorSetting.DEVICENODE.Location"] = self.device.model
        return {**defaults, **self.device.config}

    def _config_get(self, data, query) -> dict:
        return self.config()

    def _config_set(self, data, query) -> None:
        if not data or not all(isinstance(k, str) and k.startswith("Config.") for k in data):
            raise ApiError("Error param: keys must be Config.<Module>.<SECTION>.<Key>")
        self.device.config.update({k: str(v) for k, v in data.items()})

    # -- relays ---------------------------------------------------------------------------------

    def _relay_get(self, data, query) -> dict:
        return {k: v for k, v in self.config().items() if k.startswith("Config.DoorSetting.RELAY.")}

    def _relay_set(self, data, query) -> None:
        if not data or not all(str(k).startswith("Config.DoorSetting.RELAY.") for k in data):
            raise ApiError("Error param: keys must be Config.DoorSetting.RELAY.<Key>")
        self._config_set(data, query)

    def _relay_status(self, data, query) -> dict:
        relays = self.local.relays
        return {f"Relay{r}": "open" if relays.get(i) else "closed" for i, r in enumerate(RELAYS, 1)}

    def _relay_trig(self, data, query) -> None:
        try:
            num, mode = int(data.get("num", 1)), int(data.get("mode", 0))
            level, delay = int(data.get("level", 0)), int(data.get("delay", 0))
        except (TypeError, ValueError) as exc:
            raise ApiError("Error param: num, mode, level and delay are numbers") from exc
        if not 1 <= num <= len(RELAYS) or mode not in (0, 1) or level not in (0, 1) or not 0 <= delay < 65536:
            raise ApiError(f"Error param: relay {num}, mode {mode}, level {level}, delay {delay}")
        self.open_relay(num, name="HTTP API", code="", kind="HTTP", mode=mode, delay=delay)

    def open_relay(
        self, num: int, *, name: str, code: str, kind: str, mode: int = 0, delay: int = 0, user_id: str = ""
    ) -> None:
        """Trigger relay `num` and log it. Mode 0 closes again after `delay` seconds (the relay's
        hold delay when 0); mode 1 (manual) toggles it."""
        local = self.local
        if mode == 1:
            local.relays[num] = not local.relays.get(num)
        else:
            local.relays[num] = True
            hold = delay or int(self.config().get(f"Config.DoorSetting.RELAY.HoldDelay{RELAYS[num - 1]}", 5))
            asyncio.get_running_loop().call_later(hold, self._close_relay, local, num)
        self.log_door(name=name, code=code, kind=kind, relay=num, success=True, user_id=user_id)

    @staticmethod
    def _close_relay(local: LocalData, num: int) -> None:
        local.relays[num] = False

    def log_door(
        self, *, name: str, code: str, kind: str, relay: int, success: bool, user_id: str = ""
    ) -> None:
        local = self.local
        stamp = time.localtime(self.clock())
        local.door_log.insert(
            0,
            {
                "ID": str(local.next_log),
                "Date": time.strftime("%Y-%m-%d", stamp),
                "Time": time.strftime("%H:%M:%S", stamp),
                "Name": name,
                "Code": code,
                "Type": kind,
                "Relay": str(relay),
                "Status": "Succ" if success else "Failed",
                "AccessMode": "",
                "UserID": user_id,  # the user of the delivered list who opened (the event's user)
            },
        )
        local.next_log += 1

    # -- entries at the door (the simulator's own, not Akuvox's) --------------------------------

    def entry(self, data: dict) -> dict:
        """Someone types a PIN (`{"pin", "apt"?}`) or presents a card (`{"card"}`) at relay
        `relay` (A, B, C or 1-3; A by default). The door opens only for a user the portal
        delivered whose code, relay and validity window match; every attempt is recorded."""
        pin, card = str(data.get("pin") or ""), str(data.get("card") or "").upper()
        if bool(pin) == bool(card):
            raise ApiError("Error param: give either pin or card")
        relay_raw = str(data.get("relay") or "A").upper()
        num = (
            RELAYS.index(relay_raw) + 1
            if relay_raw in RELAYS
            else int(relay_raw)
            if relay_raw.isdigit()
            else 0
        )
        if not 1 <= num <= len(RELAYS):
            raise ApiError(f"Error param: relay {relay_raw!r}")
        apt = str(data.get("apt") or "")
        method = "pin" if pin else "rf_card"
        code = pin or card
        user, reason = self._match(method, code, apt, num)
        local = self.local
        attempt = {
            "id": len(local.attempts) + 1,
            "time": self.clock(),
            "method": method,
            "code": code,
            "apt": apt,
            "relay": num,
            "result": "granted" if user else "refused",
            "reason": reason,
            "user_id": user["UserID"] if user else "",
            "name": user["Name"] if user else "",
        }
        local.attempts.append(attempt)
        kind = "PIN" if pin else "Card"
        if user:
            self.open_relay(num, name=user["Name"], code=code, kind=kind, user_id=user["UserID"])
        else:
            self.log_door(name="", code=code, kind=kind, relay=num, success=False)
        return {"opened": bool(user), "reason": reason, "attempt": dict(attempt)}

    def _match(self, method: str, code: str, apt: str, num: int) -> tuple[dict | None, str]:
        key = "PrivatePIN" if method == "pin" else "CardCode"
        candidates = [u for u in self.local.users.values() if u.get(key) and u.get(key) == code]
        if method == "pin" and self.local.pin_mode == "apt_pin":
            candidates = [u for u in candidates if u.get("APT") == apt]
        if not candidates:
            return None, "unknown code"
        now = self.clock()
        reason = "not for this relay"
        for user in candidates:
            relays = {
                pair.split("-", 1)[1]
                for pair in re.split("[;,]", user.get("ScheduleRelay", ""))
                if "-" in pair
            }
            if not any(str(num) in r for r in relays):
                continue
            if _stamp(user.get("ValidFrom")) and now < _stamp(user.get("ValidFrom")):
                reason = "not valid yet"
                continue
            if _stamp(user.get("ValidUntil")) and now >= _stamp(user.get("ValidUntil")):
                reason = "expired"
                continue
            return user, ""
        return None, reason

    def store_users(self, payload: dict) -> int:
        """A `users` command's list replaces the users the cloud gave before (local ones stay)."""
        local = self.local
        kept = {k: u for k, u in local.users.items() if u.get("SourceType") != "Cloud"}
        for item in payload.get("users") or []:
            if not isinstance(item, dict):
                continue
            user = {k: str(v) for k, v in item.items() if v is not None}
            user["ID"] = f"c{user.get('ID', len(kept) + 1)}"  # never collides with local IDs
            user.update({"Type": "ordinary", "Source": "cloud", "SourceType": "Cloud"})
            kept[user["ID"]] = user
        local.users = kept
        local.users_version = int(payload.get("version") or 0)
        local.pin_mode = str(payload.get("pin_mode") or "pin")
        return sum(1 for u in kept.values() if u.get("SourceType") == "Cloud")

    # -- users ----------------------------------------------------------------------------------

    def _user_get(self, data, query) -> dict:
        return _page(list(self.local.users.values()), data, query)

    def _check_user(self, user: dict) -> None:
        if not user.get("Name") or not user.get("UserID"):
            raise ApiError("Error param: Name and UserID are required")
        if user.get("PrivatePIN") and not _PIN.match(user["PrivatePIN"]):
            raise ApiError("Error param: PrivatePIN must be 4 to 8 digits")
        if not _SCHEDULE_RELAY.match(user.get("ScheduleRelay") or ""):
            raise ApiError("Error param: ScheduleRelay must be <ScheduleID>-<Relay> pairs, e.g. 1001-1;")
        others = (u for u in self.local.users.values() if u["ID"] != user.get("ID"))
        if any(u["UserID"] == user["UserID"] for u in others):
            raise ApiError(f"UserID {user['UserID']} already exists")

    @staticmethod
    def _user_fields(item: dict) -> dict:
        fields = {k: _text(item, k) for k in USER_FIELDS if item.get(k) is not None}
        if "ScheduleRelay" not in fields and item.get("Schedule-Relay") is not None:
            fields["ScheduleRelay"] = str(item["Schedule-Relay"])  # the other spelling in the wild
        return fields

    def _user_add(self, data, query) -> None:
        for item in _items(data):
            user = {
                "ID": str(self.local.next_user),
                "Name": "",
                "UserID": "",
                "PrivatePIN": "",
                "CardCode": "",
                "WebRelay": "0",
                "ScheduleRelay": "1001-1;",
                "LiftFloorNum": "0",
                "Type": "ordinary",
                "Source": "web",
                "SourceType": "Local",
            }
            user.update(self._user_fields(item))
            self._check_user(user)
            self.local.users[user["ID"]] = user
            self.local.next_user += 1

    def _user_set(self, data, query) -> None:
        for item in _items(data):
            current = self.local.users.get(str(item.get("ID", "")))
            if current is None:
                raise ApiError(f"User {item.get('ID')!r} not found")
            changed = {**current, **self._user_fields(item)}
            self._check_user(changed)
            current.update(changed)

    def _user_del(self, data, query) -> None:
        for item in _items(data):
            if self.local.users.pop(str(item.get("ID", "")), None) is None:
                raise ApiError(f"User {item.get('ID')!r} not found")

    # -- schedules ------------------------------------------------------------------------------

    def schedules(self) -> list[dict]:
        built_in = [self._schedule_record(sid, spec, source="0") for sid, spec in BUILT_IN_SCHEDULES.items()]
        return built_in + list(self.local.schedules.values())

    @staticmethod
    def _schedule_record(sid: str, fields: dict, source: str = "1") -> dict:
        week = fields.get("Week", "")
        record = {"ID": sid, "DisplayID": sid, "Mode": fields.get("Type", "0"), "SourceType": source}
        record.update({k: fields.get(k, "") for k in SCHEDULE_FIELDS})
        record.update({day: "1" if str(i) in week else "0" for i, day in enumerate(_DAYS)})
        return record

    @staticmethod
    def _check_schedule(fields: dict) -> None:
        if fields.get("Type") not in ("0", "1", "2"):
            raise ApiError("Error param: Type must be 0 (normal), 1 (weekly) or 2 (daily)")
        checks = [("Week", _WEEK), ("Daily", _DAILY), ("DateStart", _DATE), ("DateEnd", _DATE)]
        checks += [("TimeStart", _TIME), ("TimeEnd", _TIME)]
        for key, pattern in checks:
            if fields.get(key) and not pattern.match(fields[key]):
                raise ApiError(f"Error param: {key} {fields[key]!r}")

    def _schedule_get(self, data, query) -> dict:
        return _page(self.schedules(), data, query)

    def _schedule_add(self, data, query) -> None:
        for item in _items(data):
            fields = {k: str(item[k]) for k in SCHEDULE_FIELDS if item.get(k) is not None}
            self._check_schedule(fields)
            sid = str(self.local.next_schedule)
            self.local.schedules[sid] = self._schedule_record(sid, fields)
            self.local.next_schedule += 1

    def _schedule_set(self, data, query) -> None:
        for item in _items(data):
            sid = str(item.get("ID", ""))
            if sid in BUILT_IN_SCHEDULES:
                raise ApiError(f"Schedule {sid} is built in and cannot be changed")
            current = self.local.schedules.get(sid)
            if current is None:
                raise ApiError(f"Schedule {sid!r} not found")
            fields = {k: current.get(k, "") for k in SCHEDULE_FIELDS}
            fields.update({k: str(item[k]) for k in SCHEDULE_FIELDS if item.get(k) is not None})
            self._check_schedule(fields)
            self.local.schedules[sid] = self._schedule_record(sid, fields)

    def _schedule_del(self, data, query) -> None:
        for item in _items(data):
            sid = str(item.get("ID", ""))
            if sid in BUILT_IN_SCHEDULES:
                raise ApiError(f"Schedule {sid} is built in and cannot be deleted")
            if self.local.schedules.pop(sid, None) is None:
                raise ApiError(f"Schedule {sid!r} not found")

    # -- logs -----------------------------------------------------------------------------------

    def _doorlog_get(self, data, query) -> dict:
        return _page(self.local.door_log, data, query)

    def _calllog_get(self, data, query) -> dict:
        return _page(self.local.call_log, data, query)
