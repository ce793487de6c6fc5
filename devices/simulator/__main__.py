"""python -m devices.simulator: run simulated intercoms against a portal until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .fleet import Fleet
from .spec import DEFAULT_FIRMWARE, DEFAULT_PREFIX, load_devices_file, specs_for


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devices.simulator",
        description="Simulated Akuvox intercoms speaking the device API (docs/device-api.md).",
    )
    parser.add_argument("--portal", required=True, help="portal base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--count", type=int, help="how many devices (unless --devices-file)")
    parser.add_argument("--devices-file", help='JSON list [{"mac": ..., "firmware_version": ...}]; wins')
    parser.add_argument("--mac-prefix", default=DEFAULT_PREFIX, help="default %(default)s")
    parser.add_argument("--start", type=int, default=1, help="first device number after the prefix")
    parser.add_argument("--firmware", default=DEFAULT_FIRMWARE, help="default %(default)s")
    parser.add_argument("--dead-percent", type=float, default=0, help="devices that go silent after start")
    parser.add_argument("--slow-percent", type=float, default=0, help="devices whose commands take longer")
    parser.add_argument("--slow-seconds", type=float, default=5.0, help="extra time per command when slow")
    parser.add_argument("--reboot-seconds", type=float, default=5.0, help="time offline per restart")
    parser.add_argument("--interval", type=float, help="heartbeat interval; default: what the portal says")
    parser.add_argument("--state", help="JSON file of the secrets and claim tokens, kept across runs")
    parser.add_argument(
        "--provisioning-code",
        default="",
        help="the installer's provisioning code (Device Provisioning page): devices are adopted at once",
    )
    parser.add_argument(
        "--lan-network",
        default="127.77.0.0/16",
        help="device i listens on, and connects to the portal from, host i+1 of it (default %(default)s); "
        "give each simulator or demo on one machine its own",
    )
    parser.add_argument(
        "--lan-port",
        type=int,
        default=8480,
        help="every device's LAN API port (default %(default)s; the portal's SMARTPLUS_DEVICE_LAN_PORT)",
    )
    parser.add_argument(
        "--lan-auth",
        choices=("none", "allowlist", "basic", "digest"),
        default="none",
        help="the devices' HTTP API authentication (default %(default)s)",
    )
    parser.add_argument("--lan-user", default="admin", help="basic/digest user (default %(default)s)")
    parser.add_argument("--lan-password", default="admin", help="its password (default %(default)s)")
    parser.add_argument(
        "--lan-allow",
        default="127.0.0.1",
        help="comma-separated caller addresses the allowlist mode lets in (default %(default)s)",
    )
    parser.add_argument(
        "--events-per-minute",
        type=float,
        default=0.0,
        help="synthetic door and call events per device and minute, posted in batches (default: none; "
        "what a device's own door log records is posted anyway)",
    )
    parser.add_argument(
        "--image-percent", type=float, default=5.0, help="events that come with a captured JPEG (default 5)"
    )
    parser.add_argument("--seed", type=int, default=0, help="picks the dead and slow devices")
    parser.add_argument("--connections", type=int, default=64, help="HTTP connections to the portal")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every retry")
    args = parser.parse_args(argv)
    if args.devices_file is None and (args.count is None or args.count < 1):
        parser.error("give --count N (N >= 1) or --devices-file")
    return args


async def run(args: argparse.Namespace) -> int:
    specs = (
        load_devices_file(args.devices_file)
        if args.devices_file
        else specs_for(args.count, args.mac_prefix, args.start, args.firmware)
    )
    fleet = Fleet(
        args.portal,
        specs,
        dead_percent=args.dead_percent,
        slow_percent=args.slow_percent,
        interval=args.interval,
        lan_network=args.lan_network,
        lan_port=args.lan_port,
        state_path=args.state,
        seed=args.seed,
        reboot_seconds=args.reboot_seconds,
        slow_seconds=args.slow_seconds,
        connection_limit=args.connections,
        provisioning_code=args.provisioning_code,
        lan_auth=args.lan_auth,
        lan_username=args.lan_user,
        lan_password=args.lan_password,
        lan_allow=tuple(a.strip() for a in args.lan_allow.split(",") if a.strip()),
        events_per_minute=args.events_per_minute,
        image_percent=args.image_percent,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await fleet.start()
        print(fleet.describe(), flush=True)
        summary = asyncio.create_task(_announce_registered(fleet))
        await stop.wait()
        summary.cancel()
    finally:
        await fleet.close()
    return 0


async def _announce_registered(fleet: Fleet) -> None:
    """One line once every live device has its secret (refusals are logged as they happen)."""
    started = asyncio.get_running_loop().time()
    while await fleet.wait_settled(timeout=60):
        await asyncio.sleep(1)
    elapsed = asyncio.get_running_loop().time() - started
    live = len(fleet.specs) - len(fleet.dead_indexes)
    logging.getLogger("devices.simulator").info("All %d live devices registered in %.1f s", live, elapsed)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    try:
        return asyncio.run(run(args))
    except (ValueError, OSError) as exc:
        print(f"devices.simulator: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
