"""AutoP: the Settings dialog's commands checked line by line, and the file a device pulls."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from devices import autop, maintenance
from devices.choices import CommandStatus, Transport
from devices.models import Device, DeviceCommand
from tests.devices.deviceapi import FakeDevice
from tests.factories import build_world, make_device

pytestmark = pytest.mark.django_db


def test_commands_are_normalised_and_exact_duplicates_dropped():
    text = (
        "Config.Settings.GENERAL.Volume=5\n\n# a note\n"
        "Config.Settings.GENERAL.Volume = 5\n  Config.A.B.C =x  "
    )
    assert autop.normalise(text) == "Config.Settings.GENERAL.Volume = 5\nConfig.A.B.C = x"


def test_bad_syntax_is_refused_with_each_line_number():
    text = "Config.A.B.C = 1\nVolume = 5\nConfig.A.B = 2\nConfig.A.B.C = 3"
    with pytest.raises(ValidationError) as exc:
        autop.parse(text)
    messages = exc.value.messages
    assert messages[0].startswith(
        "Line 2: “Volume = 5” is not a command of the form Config.Module.SECTION.Key"
    )
    assert messages[1].startswith("Line 3: “Config.A.B = 2”")
    assert messages[2] == "Line 4: Config.A.B.C is already set to “1” on line 1; keep one value."
    assert len(messages) == 3


def test_control_characters_in_a_value_are_refused():
    with pytest.raises(ValidationError, match="Line 1"):
        autop.parse("Config.A.B.C = a\x00b")


def _file(device: Device) -> list[str]:
    fake = FakeDevice(device.mac_address.mac)
    assert fake.register().status_code == 201
    response = fake.autop()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode().splitlines()


def test_file_renders_name_relays_and_transport_line_by_line():
    w = build_world()
    relays = [
        {"enabled": True, "name": "Front Door", "dtmf_code": "#1", "access_methods": ["pin"]},
        {"enabled": False, "name": "Garage", "dtmf_code": "2", "access_methods": []},
    ]
    device = make_device(w.community_a, "Main\nEntrance", relays=relays)
    maintenance.device_settings_update(
        actor=w.installer_a, device=device, transport=Transport.TLS, autop_commands=""
    )
    assert _file(device) == [
        f"## SmartPlus AutoP for {device.mac_address.mac} (Main Entrance)",
        "Config.DoorSetting.DEVICENODE.Location = Main Entrance",
        "Config.DoorSetting.RELAY.EnableA = 1",
        "Config.DoorSetting.RELAY.NameA = Front Door",
        "Config.DoorSetting.RELAY.DTMFA = #1",
        "Config.DoorSetting.RELAY.EnableB = 0",
        "Config.DoorSetting.RELAY.NameB = Garage",
        "Config.DoorSetting.RELAY.DTMFB = 2",
        "Config.Account1.SIP.TransType = 2",
    ]


@pytest.mark.parametrize(
    ("transport", "value"), [(Transport.UDP, "0"), (Transport.TCP, "1"), (Transport.TLS, "2")]
)
def test_connection_type_maps_to_trans_type(transport, value):
    w = build_world()
    maintenance.device_settings_update(
        actor=w.installer_a, device=w.device_a, transport=transport, autop_commands=""
    )
    assert f"Config.Account1.SIP.TransType = {value}" in _file(w.device_a)


def test_installer_commands_follow_deduped_and_win_over_the_portals_own_key():
    w = build_world()
    maintenance.device_settings_update(
        actor=w.installer_a,
        device=w.device_a,
        transport=Transport.TCP,
        autop_commands="Config.Account1.SIP.TransType = 0\nConfig.X.Y.Z = 1\nConfig.X.Y.Z = 1",
    )
    lines = _file(w.device_a)
    assert [line for line in lines if "TransType" in line] == ["Config.Account1.SIP.TransType = 0"]
    assert lines.count("Config.X.Y.Z = 1") == 1
    assert lines[-2:] == ["Config.Account1.SIP.TransType = 0", "Config.X.Y.Z = 1"]


def test_one_time_commands_are_served_once_then_gone():
    w = build_world()
    fake = FakeDevice(w.device_a.mac_address.mac)
    fake.register()
    command = maintenance.device_one_time_autop(
        actor=w.installer_a, device=w.device_a, commands="Config.Once.A.B = 1\nConfig.Once.A.B = 1"
    )
    first = fake.autop().content.decode().splitlines()
    assert first[-2:] == ["## One-Time AutoP", "Config.Once.A.B = 1"]
    command.refresh_from_db()
    assert command.status == CommandStatus.DONE
    second = fake.autop().content.decode()
    assert "Config.Once.A.B" not in second and "One-Time" not in second


def test_settings_with_a_bad_line_change_nothing():
    w = build_world()
    with pytest.raises(ValidationError) as exc:
        maintenance.device_settings_update(
            actor=w.installer_a,
            device=w.device_a,
            transport=Transport.UDP,
            autop_commands="Config.A.B.C = 1\nnope",
        )
    assert exc.value.message_dict["autop_commands"][0].startswith("Line 2:")
    w.device_a.refresh_from_db()
    assert (w.device_a.transport, w.device_a.autop_commands) == (Transport.TCP, "")
    assert not DeviceCommand.objects.filter(device=w.device_a).exists()
