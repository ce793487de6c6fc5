"""The simulator's LAN HTTP API is Akuvox's: clients written for real devices work against it unchanged.

Driven the way third-party Akuvox clients drive real intercoms (docs/device-api.md lists the
sources): `requests` with HTTP Digest and JSON sent as text/plain, and an aiohttp client with
Digest middleware posting `{"target", "action", "data": {"item": [...]}}` as pylocal-akuvox does.
Then the portal's own LAN client (the nudge, system/info) through each authentication mode.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import pytest
import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from devices import lan, maintenance
from devices.models import Device
from tests.devices import test_simulator as base
from tests.devices.test_simulator import against_portal, lan_network, wait_until

# The live portal, its three intercoms and the simulator runner of test_simulator.
portal, intercoms, simulate = base.portal, base.intercoms, base.simulate

USER, PASSWORD = "api", "s3cret"


def base_url(sim, mac: str) -> str:
    truth = sim.truth()[mac]
    return f"http://{truth['lan_address']}:{truth['lan_port']}"


class ThirdPartyClient:
    """A client as written for real Akuvox devices: JSON bodies as text/plain, Digest auth."""

    def __init__(self, url: str, auth) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.auth = auth

    def get(self, path: str, **params) -> dict:
        response = self.http.get(self.url + path, params=params, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict) -> dict:
        response = self.http.post(
            self.url + path, data=json.dumps(body), headers={"Content-Type": "text/plain"}, timeout=5
        )
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, reply: dict) -> dict:
        assert reply["retcode"] == 0 and reply["message"] == "OK", reply
        return reply["data"]


@against_portal
def test_every_real_lan_api_call_with_digest_and_text_plain_json(intercoms, simulate):
    specs, _devices = intercoms
    sim = simulate(specs[:1], lan_auth="digest", lan_username=USER, lan_password=PASSWORD)
    mac = specs[0].mac
    url = base_url(sim, mac)
    api = ThirdPartyClient(url, HTTPDigestAuth(USER, PASSWORD))

    # Without credentials, or with wrong ones: the device's Digest challenge.
    bare = requests.get(url + "/api/system/info", timeout=5)
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"].startswith('Digest realm="HTTPAPI"')
    assert 'qop="auth,auth-int"' in bare.headers["WWW-Authenticate"]
    assert (
        requests.get(url + "/api/system/info", auth=HTTPDigestAuth(USER, "no"), timeout=5).status_code == 401
    )

    # system/info and system/status
    info = api.get("/api/system/info")
    assert info["action"] == "info"
    status = api.ok(info)["Status"]
    assert status["MAC"] == ":".join(mac[i : i + 2] for i in range(0, 12, 2))
    assert (status["Model"], status["FirmwareVersion"]) == ("R29", "29.30.2.14")
    assert status["HardwareVersion"] and "Uptime" in status
    system = api.ok(api.get("/api/system/status"))
    assert abs(int(system["SystemTime"]) - time.time()) < 60 and int(system["UpTime"]) >= 0

    # relay/get, relay/trig (the manual's body), relay/status
    relay_config = api.ok(api.get("/api/relay/get"))
    assert relay_config["Config.DoorSetting.RELAY.HoldDelayA"] == "5"
    assert api.ok(api.get("/api/relay/status")) == {
        "RelayA": "closed",
        "RelayB": "closed",
        "RelayC": "closed",
    }
    trig = api.post(
        "/api/relay/trig",
        {"target": "relay", "action": "trig", "data": {"mode": 0, "num": 1, "level": 1, "delay": 5}},
    )
    assert trig["action"] == "trig"
    api.ok(trig)
    assert api.ok(api.get("/api/relay/status"))["RelayA"] == "open"
    bad = api.post("/api/relay/trig", {"target": "relay", "action": "trig", "data": {"num": 9}})
    assert bad["retcode"] == -1 and "Error param" in bad["message"]

    # user/add, user/get, user/set, user/del
    alice = {
        "Name": "Alice",
        "UserID": "2001",
        "PrivatePIN": "1234",
        "CardCode": "0012345678",
        "ScheduleRelay": "1001-1;",
    }
    api.ok(api.post("/api/user/add", {"target": "user", "action": "add", "data": {"item": [alice]}}))
    users = api.ok(api.post("/api/user/get", {"target": "user", "action": "get", "data": {"page": 1}}))
    assert users["num"] == 1
    (stored,) = users["item"]
    assert {k: stored[k] for k in alice} == alice
    assert {"ID", "WebRelay", "LiftFloorNum", "Type", "SourceType"} <= set(stored)
    dup = api.post("/api/user/add", {"target": "user", "action": "add", "data": {"item": [alice]}})
    assert dup["retcode"] == -1 and "already exists" in dup["message"]
    weak = {**alice, "UserID": "2002", "PrivatePIN": "12"}
    assert (
        api.post("/api/user/add", {"target": "user", "action": "add", "data": {"item": [weak]}})["retcode"]
        == -1
    )
    change = {
        "target": "user",
        "action": "set",
        "data": {"item": [{"ID": stored["ID"], "PrivatePIN": "5678"}]},
    }
    api.ok(api.post("/api/user/set", change))
    assert api.ok(api.get("/api/user/get", page=1))["item"][0]["PrivatePIN"] == "5678"
    api.ok(
        api.post(
            "/api/user/del", {"target": "user", "action": "del", "data": {"item": [{"ID": stored["ID"]}]}}
        )
    )
    assert api.ok(api.get("/api/user/get"))["item"] == []

    # schedule/add, schedule/get, schedule/set, schedule/del (1001 and 1002 are built in)
    weekday = {"Type": "1", "Name": "Weekdays", "Week": "12345", "Daily": "08:00-18:00"}
    api.ok(
        api.post("/api/schedule/add", {"target": "schedule", "action": "add", "data": {"item": [weekday]}})
    )
    schedules = api.ok(api.get("/api/schedule/get", page=1))["item"]
    assert [s["ID"] for s in schedules][:2] == ["1001", "1002"]
    added = schedules[-1]
    assert (added["Name"], added["Week"], added["Mon"], added["Sun"]) == ("Weekdays", "12345", "1", "0")
    rename = {
        "target": "schedule",
        "action": "set",
        "data": {"item": [{"ID": added["ID"], "Name": "Office"}]},
    }
    api.ok(api.post("/api/schedule/set", rename))
    assert api.ok(api.get("/api/schedule/get"))["item"][-1]["Name"] == "Office"
    builtin = {"target": "schedule", "action": "del", "data": {"item": [{"ID": "1001"}]}}
    assert api.post("/api/schedule/del", builtin)["retcode"] == -1
    api.ok(
        api.post(
            "/api/schedule/del",
            {"target": "schedule", "action": "del", "data": {"item": [{"ID": added["ID"]}]}},
        )
    )
    assert len(api.ok(api.get("/api/schedule/get"))["item"]) == 2

    # doorlog/get (the relay trigger above is in it) and calllog/get
    doors = api.ok(api.post("/api/doorlog/get", {"target": "doorlog", "action": "get", "data": {"page": 1}}))
    assert doors["num"] == 1
    (entry,) = doors["item"]
    assert set(entry) >= {"ID", "Date", "Time", "Name", "Code", "Type", "Relay", "Status"}
    assert (entry["Relay"], entry["Status"]) == ("1", "Succ")
    calls = api.ok(api.get("/api/calllog/get", page=1))
    assert calls["num"] == 0 and calls["item"] == []

    # config/get and config/set (AutoP keys)
    key = "Config.DoorSetting.GENERAL.Greeting"
    api.ok(api.post("/api/config/set", {"target": "config", "action": "set", "data": {key: "Welcome"}}))
    assert api.ok(api.get("/api/config/get"))[key] == "Welcome"
    assert f"{key} = Welcome" in sim.truth()[mac]["config"]

    # The generic POST /api, the legacy OpenDoor and an API the firmware lacks.
    api.ok(api.post("/api", {"target": "relay", "action": "trig", "data": {"num": 2, "mode": 0, "delay": 1}}))
    assert api.ok(api.get("/api/relay/status"))["RelayB"] == "open"
    door = requests.get(
        url + "/fcgi/do",
        params={"action": "OpenDoor", "UserName": USER, "Password": PASSWORD, "DoorNum": 3},
        timeout=5,
    )
    assert door.status_code == 200 and "hcSingleResult type=hidden value='0'" in door.text
    wrong = requests.get(
        url + "/fcgi/do", params={"action": "OpenDoor", "UserName": USER, "Password": "x"}, timeout=5
    )
    assert "value='-1'" in wrong.text
    assert api.ok(api.get("/api/doorlog/get"))["num"] == 4
    missing = api.get("/api/foo/bar")
    assert missing["retcode"] == -1 and missing["message"] == "No handlers for this request"

    # system/reboot: the device answers, goes away and comes back.
    api.ok(api.post("/api/system/reboot", {"target": "system", "action": "reboot"}))
    wait_until(lambda: not sim.truth()[mac]["online"], what="the device to restart")
    wait_until(lambda: sim.truth()[mac]["online"], what="the device to be back")
    assert int(api.ok(api.get("/api/system/status"))["UpTime"]) < 30


async def _pylocal_style(url: str) -> tuple[dict, dict, dict]:
    """As pylocal-akuvox does it: aiohttp's Digest middleware, `json=` bodies, mutations posted to
    /api/<target>/set with the action in the body, lists read with GET ?page=."""
    middleware = aiohttp.DigestAuthMiddleware(USER, PASSWORD)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        body = {
            "target": "user",
            "action": "add",
            "data": {
                "item": [
                    {
                        "Name": "Bob",
                        "UserID": "3001",
                        "WebRelay": "0",
                        "Schedule-Relay": "1001-1",
                        "ScheduleRelay": "1001-1",
                        "LiftFloorNum": "0",
                    }
                ]
            },
        }
        async with session.post(f"{url}/api/user/set", json=body) as response:
            added = await response.json(content_type=None)
        async with session.get(f"{url}/api/user/get", params={"page": 1}) as response:
            users = await response.json(content_type=None)
        trig = {"target": "relay", "action": "trig", "data": {"num": 1, "mode": 0, "level": 0, "delay": 0}}
        async with session.post(f"{url}/api/relay/trig", json=trig) as response:
            await response.read()
        async with session.get(f"{url}/api/doorlog/get") as response:
            doors = await response.json(content_type=None)
    return added, users, doors


@against_portal
def test_an_aiohttp_client_like_pylocal_akuvox_works_unchanged(intercoms, simulate):
    specs, _devices = intercoms
    sim = simulate(specs[:1], lan_auth="digest", lan_username=USER, lan_password=PASSWORD)
    url = base_url(sim, specs[0].mac)
    # A thread of its own: other tests (Playwright) may leave an event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        added, users, doors = pool.submit(lambda: asyncio.run(_pylocal_style(url))).result(timeout=30)
    assert added["retcode"] == 0 and added["action"] == "add"
    assert [(u["Name"], u["UserID"], u["ScheduleRelay"]) for u in users["data"]["item"]] == [
        ("Bob", "3001", "1001-1")
    ]
    assert doors["data"]["item"][0]["Type"] == "HTTP"


def _get_from(source: str, url: str) -> int:
    """A GET from another source address: a caller the allow-list does not name."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5, source_address=(source, 0))
    try:
        conn.request("GET", "/api/system/info")
        return conn.getresponse().status
    finally:
        conn.close()


@against_portal
@pytest.mark.parametrize("mode", ["none", "allowlist", "basic"])
def test_the_other_authentication_modes(intercoms, simulate, mode):
    specs, _devices = intercoms
    sim = simulate(
        specs[:1], lan_auth=mode, lan_username=USER, lan_password=PASSWORD, lan_allow=("127.0.0.1",)
    )
    url = base_url(sim, specs[0].mac)
    auth = HTTPBasicAuth(USER, PASSWORD) if mode == "basic" else None
    assert ThirdPartyClient(url, auth).get("/api/system/info")["retcode"] == 0
    if mode == "basic":
        refused = requests.get(url + "/api/system/info", auth=HTTPBasicAuth(USER, "no"), timeout=5)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == 'Basic realm="HTTPAPI"'
    if mode == "allowlist":
        assert _get_from("127.0.0.2", url) == 403
    if mode == "none":
        assert _get_from("127.0.0.2", url) == 200


@against_portal
@pytest.mark.parametrize("mode", ["digest", "basic"])
def test_the_portal_speaks_to_the_device_with_its_credentials(world, intercoms, simulate, settings, mode):
    specs, devices = intercoms
    network = lan_network()
    sim = simulate(
        specs[:1], interval=60, lan_network=network, lan_auth=mode, lan_username=USER, lan_password=PASSWORD
    )
    settings.SMARTPLUS_DEVICE_NETWORKS = [network]
    settings.SMARTPLUS_DEVICE_LAN_AUTH = mode
    settings.SMARTPLUS_DEVICE_LAN_USERNAME, settings.SMARTPLUS_DEVICE_LAN_PASSWORD = USER, PASSWORD
    address = sim.truth()[specs[0].mac]["lan_address"]
    lan.nudge(address)  # its first heartbeat, which tells the portal its address
    device = wait_until(
        lambda: Device.objects.filter(pk=devices[0].pk, lan_address__isnull=False).first(), what="a heartbeat"
    )
    assert device.lan_address == address

    assert lan.system_info(device.lan_address)["FirmwareVersion"] == "29.30.2.14"
    # The nudge: the device heartbeats at once, long before its 60 s interval.
    Device.objects.filter(pk=device.pk).update(last_seen_at=None)
    assert maintenance.device_nudge(device_id=device.pk) is True
    wait_until(
        lambda: Device.objects.filter(pk=device.pk, last_seen_at__isnull=False).exists(),
        timeout=3,
        what="the nudged heartbeat",
    )

    settings.SMARTPLUS_DEVICE_LAN_PASSWORD = "wrong"
    with pytest.raises(lan.DeviceUnreachable, match="refused the portal's credentials"):
        lan.system_info(device.lan_address)
