"""Hostile input on every device endpoint: each answer is a JSON 4xx and nothing is stored.

A corpus of bodies (deep nesting, NUL, huge bodies, wrong types, invalid UTF-8, huge numbers,
NaN, unicode, lone surrogates, bodies that are not JSON objects), of content types, of
Authorization headers (missing, odd schemes, bad base64, non-ASCII, NUL, oversized) and of
methods is sent to register, heartbeat, command result, the AutoP file and the firmware
download. Row counts, the audit log and the device's row are compared before and after.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from devices import maintenance
from devices.models import Device, DeviceCommand, ProvisioningCode, RegistrationRequest
from smartplus.models import AuditLog
from tests.devices.deviceapi import FakeDevice

pytestmark = pytest.mark.django_db

JSON = "application/json"
MAC = "0C1105000001"  # replaced by the world's device A below


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hostile_bodies(mac: str, claim_token: str) -> list[tuple[str, bytes, str]]:
    """(what, body, content type): none of them may be accepted by any endpoint."""
    deep_arrays = b"[" * 7000 + b"]" * 7000  # 14 KB: the RecursionError of the issue
    deep_objects = b'{"a":' * 2500 + b"1" + b"}" * 2500
    ok = {"mac": mac, "claim_token": claim_token, "firmware_version": "29.30.2.14", "status": "done"}

    def with_(**fields) -> bytes:
        return json.dumps({**ok, **fields}).encode()

    bodies = [
        ("deep arrays", deep_arrays, JSON),
        ("deep objects", deep_objects, JSON),
        ("deep inside a field", with_(firmware_version=[[[[[[["x"]]]]]]]), JSON),
        ("brackets in strings, then deep", b'{"a": "[[[[", "b": ' + b"[" * 50 + b"]" * 50 + b"}", JSON),
        ("NUL escaped in a value", with_(firmware_version="29.30\u0000"), JSON),
        ("NUL escaped in the MAC", with_(mac=mac + "\u0000"), JSON),
        ("NUL escaped in a key", json.dumps({**ok, "x\u0000": 1}).encode(), JSON),
        ("NUL in a message", with_(message="done\u0000", status="done"), JSON),
        ("raw NUL byte", b'{"mac": "' + mac.encode() + b'\x00"}', JSON),
        ("lone surrogate", with_(firmware_version="\ud800"), JSON),
        ("lone surrogate escaped", b'{"mac": "' + mac.encode() + b'", "firmware_version": "\\udfff"}', JSON),
        ("invalid UTF-8", b'{"mac": "\xff\xfe\xfd"}', JSON),
        ("UTF-16", json.dumps(ok).encode("utf-16"), JSON),
        ("over MAX_BODY", with_(message="x" * 20_000), JSON),
        ("over DATA_UPLOAD_MAX_MEMORY_SIZE", b'{"message": "' + b"x" * 3_000_000 + b'"}', JSON),
        ("a list", b"[]", JSON),
        ("a string", b'"hello"', JSON),
        ("a number", b"42", JSON),
        ("null", b"null", JSON),
        ("not JSON", b"mac=0C1105000001", JSON),
        ("truncated", json.dumps(ok).encode()[:-3], JSON),
        ("NaN", b'{"lan_port": NaN, "status": NaN, "firmware_version": NaN}', JSON),
        ("Infinity", b'{"lan_port": Infinity, "status": -Infinity}', JSON),
        ("huge integer", b'{"lan_port": 1' + b"0" * 5000 + b', "status": 1' + b"0" * 5000 + b"}", JSON),
        ("huge float", b'{"lan_port": 1e999, "status": 1e999, "mac": 1e999}', JSON),
        ("wrong types", with_(mac=123, firmware_version=["29"], claim_token={"a": 1}, status=True), JSON),
        ("bool port", with_(lan_port=True, status=7, model=7), JSON),
        ("object port", with_(lan_port={"port": 80}, message=["x"], provisioning_code=["x"]), JSON),
        (
            "unicode, too long",
            with_(firmware_version="\uff12\uff19" * 40, mac="\uff10\uff23" * 6, message="\U0001f4a5" * 3000),
            JSON,
        ),
        (
            "unicode MAC",
            with_(
                mac="\u0660C\u0661\u0661" + "\u0660" * 8,
                status="d\u00f3ne",
                lan_address="\u0661\u0669\u0662.168.1.1",
            ),
            JSON,
        ),
        (
            "bad address and port",
            with_(
                lan_address="169.254.169.254/32",
                lan_port=-1,
                status="maybe",
                claim_token="spaces in a token!",
            ),
            JSON,
        ),
        ("bad claim token", with_(claim_token="short", lan_port=70000, status=""), JSON),
        ("text/plain", json.dumps(ok).encode(), "text/plain"),
        ("form", b"mac=" + mac.encode(), "application/x-www-form-urlencoded"),
        (
            "multipart",
            b"--x\r\nContent-Disposition: form-data; name=mac\r\n\r\nx\r\n--x--",
            "multipart/form-data; boundary=x",
        ),
        ("no content type", json.dumps(ok).encode(), ""),
        ("xml", b"<mac>0C1105000001</mac>", "application/xml"),
    ]
    return bodies


def hostile_auth(mac: str) -> list[tuple[str, str | None]]:
    return [
        ("missing", None),
        ("empty", ""),
        ("scheme only", "Basic"),
        ("bearer", "Bearer abc.def.ghi"),
        ("digest", 'Digest username="x"'),
        ("not base64", "Basic !!!not-base64!!!"),
        ("non-ASCII", "Basic é"),
        ("not UTF-8", "Basic " + _b64(b"\xff\xfe:\xfd")),
        ("no colon", "Basic " + _b64(mac.encode())),
        ("NUL in the MAC", "Basic " + _b64(mac.encode() + b"\x00:secret")),
        ("NUL in the secret", "Basic " + _b64(mac.encode() + b":sec\x00ret")),
        ("wrong secret", "Basic " + _b64(mac.encode() + b":" + b"0" * 64)),
        ("empty secret", "Basic " + _b64(mac.encode() + b":")),
        ("unknown MAC", "Basic " + _b64(b"0C11FFFFFFFF:secret")),
        ("huge", "Basic " + "A" * 12_000),
        ("lower-case scheme, garbage", "basic " + _b64(b"\x00" * 40)),
    ]


def snapshot(device_pk: int) -> dict:
    return {
        "devices": Device.objects.count(),
        "commands": list(DeviceCommand.objects.order_by("pk").values_list("pk", "status", "message")),
        "requests": list(
            RegistrationRequest.objects.order_by("pk").values_list("pk", "attempts", "last_seen_at")
        ),
        "codes": ProvisioningCode.objects.count(),
        "audit": AuditLog.objects.count(),
        "device": Device.objects.filter(pk=device_pk)
        .values(
            "firmware_version",
            "model",
            "last_seen_at",
            "lan_address",
            "api_secret_hash",
            "claim_hash",
        )
        .get(),
    }


@pytest.fixture
def registered(world):
    """Device A registered and heard from (its claim closed), with a delivered command."""
    device = FakeDevice(world.device_a.mac_address.mac)
    assert device.register().status_code == 201
    command = maintenance.device_reboot(actor=world.installer_a, device=world.device_a)
    assert device.commands() == [{"id": command.pk, "kind": "reboot"}]
    return device, command


def _send(client: Client, method: str, path: str, body: bytes = b"", content_type: str = JSON, auth=None):
    extra = {} if auth is None else {"HTTP_AUTHORIZATION": auth}
    if method == "get":
        return client.get(path, **extra)
    return client.generic(method.upper(), path, body, content_type=content_type, **extra)


def _check_all(cases, device_pk: int) -> None:
    """Send every case; all answers JSON 4xx, the database as it was."""
    before = snapshot(device_pk)
    failures = []
    for what, send in cases:
        response = send()
        problem = None
        if not 400 <= response.status_code < 500:
            problem = f"status {response.status_code}"
        elif not response["Content-Type"].startswith(JSON):
            problem = f"content type {response['Content-Type']}"
        else:
            data = json.loads(response.content)
            if not isinstance(data, dict) or not data.get("error") or not data.get("message"):
                problem = f"body {data!r}"
        if problem:
            failures.append(f"{what}: {problem} {response.content[:120]!r}")
    assert failures == [], "\n".join(failures)
    assert snapshot(device_pk) == before


def test_register_answers_hostile_bodies_with_json_4xx_and_stores_nothing(registered, world):
    device, _command = registered
    client = Client()
    path = "/device-api/v1/register"
    cases = [
        (what, lambda b=body, t=ctype: _send(client, "post", path, b, t))
        for what, body, ctype in hostile_bodies(device.mac, "claim-token-of-an-attacker")
    ]
    cases += [(f"method {m}", lambda m=m: _send(client, m, path)) for m in ("get", "put", "patch", "delete")]
    _check_all(cases, world.device_a.pk)


HEARTBEAT_IGNORES = {"object port", "unicode MAC", "bad address and port", "bad claim token"}


def test_heartbeat_answers_hostile_bodies_and_headers_with_json_4xx_and_stores_nothing(registered, world):
    device, _command = registered
    client = Client()
    path = "/device-api/v1/heartbeat"
    good = device.auth()["HTTP_AUTHORIZATION"]
    cases = [
        (f"body {what}", lambda b=body, t=ctype: _send(client, "post", path, b, t, good))
        for what, body, ctype in hostile_bodies(device.mac, device.claim_token)
        # Bad only in fields a heartbeat does not read (the address is the connection's own, the
        # MAC and claim token are register's): well-formed heartbeats.
        if what not in HEARTBEAT_IGNORES
    ]
    cases += [
        (f"auth {what}", lambda a=auth: _send(client, "post", path, b"{}", JSON, a))
        for what, auth in hostile_auth(device.mac)
    ]
    cases += [
        (f"method {m}", lambda m=m: _send(client, m, path, auth=good)) for m in ("get", "put", "delete")
    ]
    _check_all(cases, world.device_a.pk)


def test_command_result_answers_hostile_input_with_json_4xx_and_stores_nothing(registered, world):
    device, command = registered
    client = Client()
    path = f"/device-api/v1/commands/{command.pk}/result"
    good = device.auth()["HTTP_AUTHORIZATION"]
    cases = [
        (f"body {what}", lambda b=body, t=ctype: _send(client, "post", path, b, t, good))
        for what, body, ctype in hostile_bodies(device.mac, device.claim_token)
    ]
    cases += [
        (f"auth {what}", lambda a=auth: _send(client, "post", path, b'{"status": "done"}', JSON, a))
        for what, auth in hostile_auth(device.mac)
    ]
    for pk in ("0", "99999999999999999999999999", str(command.pk + 1000)):
        cases.append(
            (
                f"command {pk}",
                lambda pk=pk: _send(
                    client, "post", f"/device-api/v1/commands/{pk}/result", b'{"status": "done"}', JSON, good
                ),
            )
        )
    cases += [(f"method {m}", lambda m=m: _send(client, m, path, auth=good)) for m in ("get", "put")]
    _check_all(cases, world.device_a.pk)


def test_autop_file_answers_hostile_headers_and_paths_with_json_4xx(registered, world):
    device, _command = registered
    client = Client()
    path = f"/autop/{device.mac}.cfg"
    good = device.auth()["HTTP_AUTHORIZATION"]
    cases = [
        (f"auth {what}", lambda a=auth: _send(client, "get", path, auth=a))
        for what, auth in hostile_auth(device.mac)
    ]
    other = world.device_b.mac_address.mac
    for mac in (other, "::::::::::::", "0C-11-05-00-00-0", "000000000000", "FFFFFFFFFFFF0", "0c11050000%00"):
        cases.append((f"path {mac}", lambda mac=mac: _send(client, "get", f"/autop/{mac}.cfg", auth=good)))
    cases += [(f"method {m}", lambda m=m: _send(client, m, path, b"{}", JSON, good)) for m in ("post", "put")]
    _check_all(cases, world.device_a.pk)


def test_firmware_download_answers_hostile_tokens_with_json_4xx(registered, world):
    client = Client()
    tokens = ["x", "A" * 5000, "%00", "a:b:c", "ü" * 20, "..%2F..%2Fetc%2Fpasswd", "MTI:1abc:xyz"]
    cases = [
        (f"token {t[:20]}", lambda t=t: _send(client, "get", f"/device-api/v1/firmware/{t}")) for t in tokens
    ]
    cases += [
        (f"auth {what}", lambda a=auth: _send(client, "get", "/device-api/v1/firmware/x", auth=a))
        for what, auth in hostile_auth(MAC)
    ]
    cases.append(("method post", lambda: _send(client, "post", "/device-api/v1/firmware/x", b"{}")))
    cases.append(("unknown call", lambda: _send(client, "post", "/device-api/v1/nope", b"[" * 9000)))
    _check_all(cases, world.device_a.pk)
