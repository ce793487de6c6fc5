"""The device simulator against the real portal (live server): what an installer would notice.

Devices register and show online with their firmware; a reboot or factory reset queued through
the portal is done; dead devices never collect their commands; the LAN API answers, and a nudge
(/api/cloud/poll) makes the device heartbeat at once instead of at its next interval.
"""

from __future__ import annotations

import json
import random
import time
import urllib.request

import pytest

from devices import services
from devices.choices import CommandStatus, DeviceStatus
from devices.models import Device, DeviceCommand
from devices.simulator import DeviceSpec, Simulator, specs_for
from tests.factories import make_device, make_mac

# The live server and the simulator read what the test committed: real transactions.
against_portal = pytest.mark.django_db(transaction=True)

FAST = {"interval": 0.3, "reboot_seconds": 0.2, "slow_seconds": 0.2}
LAN_PORT = 8480


def wait_until(predicate, timeout: float = 8.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


def lan_network() -> str:
    """A loopback /24 of its own, so parallel runs and other simulators never share an address."""
    return f"127.{random.randint(100, 254)}.{random.randint(0, 255)}.0/24"


def lan_get(truth: dict, path: str, method: str = "GET") -> tuple[int, bytes]:
    url = f"http://{truth['lan_address']}:{truth['lan_port']}{path}"
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=3) as response:
        return response.status, response.read()


@pytest.fixture
def portal(live_server, settings):
    # AutoP URLs in commands are built from the base URL; heartbeats go to the live server.
    settings.SMARTPLUS_BASE_URL = live_server.url
    settings.SMARTPLUS_DEVICE_NETWORKS = []
    settings.SMARTPLUS_DEVICE_LAN_PORT = LAN_PORT  # the simulator's default
    return live_server.url


@pytest.fixture
def intercoms(world):
    """Three devices of community A bound to consecutive MACs, the first two on R29 firmware."""
    specs = specs_for(3, prefix="0C11AB", start=1)
    specs[2] = DeviceSpec(specs[2].mac, "113.30.2.5")  # a C313
    for spec in specs:
        make_mac(world.installer_a, spec.mac)
    devices = [make_device(world.community_a, f"Gate {i}", mac=spec.mac) for i, spec in enumerate(specs)]
    return specs, devices


@pytest.fixture
def simulate(portal, world):
    """Start simulated devices, set up with installer A's provisioning code unless told otherwise."""
    running: list[Simulator] = []

    def start(specs, **options) -> Simulator:
        options.setdefault("provisioning_code", services.provisioning_code(actor=world.installer_a))
        sim = Simulator(
            portal, specs, lan_network=options.pop("lan_network", lan_network()), **{**FAST, **options}
        )
        running.append(sim)
        return sim.start(timeout=15)

    yield start
    for sim in running:
        sim.stop()


def command_status(command: DeviceCommand) -> str:
    return DeviceCommand.objects.values_list("status", flat=True).get(pk=command.pk)


@against_portal
def test_devices_register_and_show_online_with_their_firmware(intercoms, simulate):
    specs, devices = intercoms
    sim = simulate(specs)

    def all_heartbeating():
        # Registration alone marks a device seen; only a heartbeat reports its LAN address.
        rows = (
            Device.objects.filter(pk__in=[d.pk for d in devices])
            .select_related("mac_address")
            .order_by("name")
        )
        versions = {spec.mac: spec.firmware_version for spec in specs}
        truth = sim.truth()
        # The heartbeat's firmware version lands just after its "seen" write (same request), and
        # the device counts itself online once the reply is back.
        return all(
            d.status == DeviceStatus.ONLINE
            and d.lan_address
            and d.firmware_version == versions[d.mac_address.mac]
            and truth[d.mac_address.mac]["online"]
            for d in rows
        ) and list(rows)

    rows = wait_until(all_heartbeating, what="every device online")
    truth = sim.truth()
    assert [(d.firmware_version, d.model) for d in rows] == [
        ("29.30.2.14", "R29"),
        ("29.30.2.14", "R29"),
        ("113.30.2.5", "C313"),
    ]
    for device, spec in zip(rows, specs, strict=True):
        assert device.api_secret_hash, "the portal issued a secret"
        # The address the heartbeats came from: each device connects from its own.
        assert device.lan_address == truth[spec.mac]["lan_address"]
        assert truth[spec.mac]["registered"] and truth[spec.mac]["online"]


@against_portal
def test_reboot_and_factory_reset_queued_through_the_portal_are_done(world, intercoms, simulate):
    from devices.maintenance import device_reboot, device_reset

    specs, devices = intercoms
    sim = simulate(specs, slow_percent=100)  # slow devices take longer, and still get there
    old_hash = Device.objects.get(pk=devices[1].pk).api_secret_hash
    reboot = device_reboot(actor=world.installer_a, device=devices[0])
    reset = device_reset(actor=world.installer_a, device=devices[1])

    wait_until(lambda: command_status(reboot) == CommandStatus.DONE, what="the reboot to be done")
    wait_until(lambda: command_status(reset) == CommandStatus.DONE, what="the reset to be done")
    # After the reset the device registered again: a new secret, heartbeating with it.
    wait_until(
        lambda: Device.objects.get(pk=devices[1].pk).api_secret_hash not in ("", old_hash),
        what="the reset device to register again",
    )
    wait_until(lambda: all(sim.truth()[s.mac]["online"] for s in specs[:2]), what="both back online")
    # Besides the AutoP every first contact brings (again after the reset), what the portal queued.
    truth = {mac: [c for c in known["commands"] if c[1] != "autop"] for mac, known in sim.truth().items()}
    assert truth[specs[0].mac] == [[reboot.pk, "reboot", "done", "Rebooting"]]
    assert truth[specs[1].mac] == [[reset.pk, "reset", "done", "Factory reset"]]
    assert truth[specs[2].mac] == []


@against_portal
def test_settings_reach_the_device_through_its_autop_file(world, intercoms, simulate):
    from devices.choices import Transport
    from devices.maintenance import device_settings_update

    specs, devices = intercoms
    sim = simulate(specs)
    line = "Config.DoorSetting.GENERAL.Greeting = Welcome"
    device_settings_update(
        actor=world.installer_a, device=devices[0], transport=Transport.TCP, autop_commands=line
    )
    command = DeviceCommand.objects.filter(device=devices[0]).latest("pk")

    wait_until(lambda: command_status(command) == CommandStatus.DONE, what="the AutoP to be applied")
    assert line in sim.truth()[specs[0].mac]["config"]


@against_portal
def test_dead_devices_never_collect_their_commands(world, intercoms, simulate):
    from devices.maintenance import device_reboot

    specs, devices = intercoms
    sim = simulate(specs, dead_percent=34, seed=3)  # one of three
    (dead_mac,) = sim.dead_macs
    dead = next(d for d in devices if d.mac_address.mac == dead_mac)
    live = next(d for d in devices if d.mac_address.mac != dead_mac)

    # The dead device was heard once (only a heartbeat reports the LAN address), so the portal
    # knows its firmware...
    heard = wait_until(
        lambda: Device.objects.filter(pk=dead.pk, lan_address__isnull=False).first(),
        what="the dead device's one heartbeat",
    )
    assert heard.firmware_version == {s.mac: s for s in specs}[dead_mac].firmware_version
    stranded = device_reboot(actor=world.installer_a, device=dead)
    control = device_reboot(actor=world.installer_a, device=live)

    # ...but a command for it stays queued while the live device runs its own (several intervals).
    wait_until(lambda: command_status(control) == CommandStatus.DONE, what="the live device's reboot")
    time.sleep(4 * FAST["interval"])
    assert command_status(stranded) == CommandStatus.QUEUED
    assert sim.truth()[dead_mac]["commands"] == []
    assert not sim.truth()[dead_mac]["online"]
    with pytest.raises(OSError):  # its LAN API is closed, like a device that is off
        lan_get(sim.truth()[dead_mac], "/api/system/info")


@against_portal
def test_lan_api_answers_and_a_nudge_makes_the_device_heartbeat_at_once(world, intercoms, settings, simulate):
    from devices.maintenance import device_reboot

    specs, devices = intercoms
    network = lan_network()
    # A long interval: whatever happens within seconds happened because of a nudge.
    sim = simulate(specs[:1], interval=60, lan_network=network)
    truth = sim.truth()[specs[0].mac]

    status, body = lan_get(truth, "/api/system/info")
    info = json.loads(body)
    assert status == 200 and info["retcode"] == 0 and info["action"] == "info"
    mac = ":".join(specs[0].mac[i : i + 2] for i in range(0, 12, 2))
    assert {key: info["data"]["Status"][key] for key in ("MAC", "Model", "FirmwareVersion")} == {
        "MAC": mac,
        "Model": "R29",
        "FirmwareVersion": "29.30.2.14",
    }
    status, page = lan_get(truth, "/")
    assert status == 200 and b"R29" in page and specs[0].mac.encode() in page

    # The portal registered the device but has no heartbeat with its LAN address yet.
    Device.objects.filter(pk=devices[0].pk).update(last_seen_at=None)
    status, body = lan_get(truth, "/api/cloud/poll", method="POST")
    assert json.loads(body)["retcode"] == 0
    device = wait_until(
        lambda: Device.objects.filter(pk=devices[0].pk, last_seen_at__isnull=False).first(),
        timeout=3,
        what="the heartbeat a poll asks for",
    )
    assert device.lan_address == truth["lan_address"]

    # Now the portal itself nudges after queueing a reboot: done long before the 60 s interval.
    settings.SMARTPLUS_DEVICE_NETWORKS = [network]
    reboot = device_reboot(actor=world.installer_a, device=devices[0])
    wait_until(lambda: command_status(reboot) == CommandStatus.DONE, timeout=5, what="the nudged reboot")


@against_portal
def test_firmware_upgrade_is_checked_installed_and_reported(world, intercoms, simulate, settings, tmp_path):
    import hashlib

    from django.core.files.base import ContentFile

    from firmware.choices import OperationStatus, Timing
    from firmware.models import Firmware, UpgradeOperation
    from firmware.services import upgrade_create

    settings.MEDIA_ROOT = tmp_path
    specs, devices = intercoms
    sim = simulate(specs[:2])
    wait_until(
        lambda: Device.objects.filter(pk__in=[devices[0].pk, devices[1].pk], model="R29").count() == 2,
        what="both devices known as R29s",
    )
    rom = b"\x7fROM" * 50_000
    good = Firmware.objects.create(
        version="29.30.2.900", file=ContentFile(rom, name="good.rom"), sha256=hashlib.sha256(rom).hexdigest()
    )
    corrupt = Firmware.objects.create(
        version="29.30.2.901",
        file=ContentFile(rom + b"!", name="bad.rom"),
        sha256=hashlib.sha256(rom).hexdigest(),
    )
    installer = world.installer_a
    old_hash = Device.objects.get(pk=devices[0].pk).api_secret_hash
    upgrade_create(
        actor=installer, firmware=good, devices=[devices[0]], timing=Timing.NOW, reset_after_upgrade=True
    )
    upgrade_create(actor=installer, firmware=corrupt, devices=[devices[1]], timing=Timing.NOW)

    upgraded = wait_until(
        lambda: UpgradeOperation.objects.filter(device=devices[0], status=OperationStatus.SUCCESS).first(),
        what="the upgrade to succeed",
    )
    assert upgraded.version_before == "29.30.2.14"
    # Reset after upgrade: the device forgot its secret and registered again, on the new version.
    wait_until(
        lambda: Device.objects.get(pk=devices[0].pk).api_secret_hash not in ("", old_hash),
        what="the device to register again after its reset",
    )
    assert Device.objects.get(pk=devices[0].pk).firmware_version == "29.30.2.900"
    assert sim.truth()[specs[0].mac]["firmware_version"] == "29.30.2.900"

    failed = wait_until(
        lambda: DeviceCommand.objects.filter(device=devices[1], status=CommandStatus.FAILED).first(),
        what="the corrupt image to be refused",
    )
    assert failed.message == "Checksum mismatch"
    assert Device.objects.get(pk=devices[1].pk).firmware_version == "29.30.2.14"
    assert sim.truth()[specs[1].mac]["firmware_version"] == "29.30.2.14"


@against_portal
def test_a_restarted_simulator_keeps_its_secrets_in_the_state_file(intercoms, simulate, tmp_path):
    specs, devices = intercoms
    state = tmp_path / "secrets.json"
    first = simulate(specs[:1], state_path=state)
    first.stop()
    assert list(json.loads(state.read_text())) == [specs[0].mac]

    # A second run does not register again (its claim is closed): it heartbeats at once.
    Device.objects.filter(pk=devices[0].pk).update(lan_address=None)
    simulate(specs[:1], state_path=state)
    wait_until(
        lambda: Device.objects.filter(pk=devices[0].pk, lan_address__isnull=False).exists(),
        what="a heartbeat with the stored secret",
    )


def test_macs_and_roles_are_reproducible():
    from devices.simulator.spec import pick_roles

    assert [s.mac for s in specs_for(3, prefix="0C1105", start=9)] == [
        "0C1105000009",
        "0C110500000A",
        "0C110500000B",
    ]
    dead, slow = pick_roles(100, dead_percent=10, slow_percent=5, seed=7)
    assert (len(dead), len(slow), dead & slow) == (10, 5, set())
    assert pick_roles(100, 10, 5, seed=7) == (dead, slow)
