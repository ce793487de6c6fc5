"""Which devices a run simulates: their MACs, firmware, model, LAN address and role (live, dead, slow)."""

from __future__ import annotations

import ipaddress
import json
import random
from dataclasses import dataclass
from pathlib import Path

# devices.choices imports only django.db.models, so the simulator needs no Django settings.
from devices.choices import MODEL_BY_FIRMWARE_PREFIX

DEFAULT_FIRMWARE = "29.30.2.14"
DEFAULT_PREFIX = "0C1105"


@dataclass(frozen=True)
class DeviceSpec:
    """One simulated intercom as it leaves the factory."""

    mac: str
    firmware_version: str = DEFAULT_FIRMWARE
    # The installer's provisioning code set on this device (else the fleet's --provisioning-code).
    provisioning_code: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mac", normalise_mac(self.mac))


def normalise_mac(mac: str) -> str:
    """12 upper-case hex digits, no separators: the form the device API authenticates with."""
    digits = "".join(ch for ch in str(mac) if ch not in ":-. ").upper()
    if len(digits) != 12 or any(ch not in "0123456789ABCDEF" for ch in digits):
        raise ValueError(f"Not a MAC address: {mac!r}")
    return digits


def model_for(firmware_version: str) -> str:
    """The model a firmware version belongs to: its first dotted part names it ("29.30.2.14" is an R29)."""
    return MODEL_BY_FIRMWARE_PREFIX.get(firmware_version.split(".", 1)[0], "Unknown")


def specs_for(
    count: int, prefix: str = DEFAULT_PREFIX, start: int = 1, firmware: str = DEFAULT_FIRMWARE
) -> list[DeviceSpec]:
    """`count` consecutive MACs: the prefix, then start, start+1, ... in hex, padded to 12 digits."""
    prefix = prefix.upper()
    width = 12 - len(prefix)
    if width < 1:
        raise ValueError(f"MAC prefix {prefix!r} leaves no room for a device number")
    last = start + count - 1
    if count and last >= 16**width:
        raise ValueError(f"{count} devices from {start} do not fit after prefix {prefix!r}")
    return [DeviceSpec(f"{prefix}{n:0{width}X}", firmware) for n in range(start, start + count)]


def load_devices_file(path: str | Path) -> list[DeviceSpec]:
    """A JSON list of {"mac", "firmware_version", "provisioning_code"} objects (only "mac" is required)."""
    entries = json.loads(Path(path).read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of devices")
    try:
        return [
            DeviceSpec(
                e["mac"], e.get("firmware_version") or DEFAULT_FIRMWARE, str(e.get("provisioning_code") or "")
            )
            for e in entries
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f'{path}: each device must be an object with a "mac" ({exc!r})') from exc


def _share(total: int, percent: float) -> int:
    """How many of `total` make `percent` per cent, rounded half up (10 % of 5 is 1)."""
    if not 0 <= percent <= 100:
        raise ValueError(f"A percentage must lie between 0 and 100, not {percent}")
    return min(total, int(total * percent / 100 + 0.5))


def pick_roles(count: int, dead_percent: float, slow_percent: float, seed: int) -> tuple[set[int], set[int]]:
    """Indexes of the dead and of the slow devices, the same for the same seed; slow ones are live."""
    rng = random.Random(seed)
    dead = set(rng.sample(range(count), _share(count, dead_percent)))
    live = [i for i in range(count) if i not in dead]
    slow = set(rng.sample(live, min(len(live), _share(count, slow_percent))))
    return dead, slow


def lan_addresses(network: str, count: int) -> list[str]:
    """Device i listens on host number i+1 of the network (all of 127/8 is loopback on Linux)."""
    net = ipaddress.ip_network(network, strict=False)
    hosts = net.num_addresses - 2 if net.num_addresses > 2 else net.num_addresses
    if count > hosts:
        raise ValueError(f"{network} has room for {hosts} devices, not {count}")
    first = int(net.network_address) + (1 if net.num_addresses > 2 else 0)
    return [str(ipaddress.ip_address(first + i)) for i in range(count)]
