"""Run the whole demo from one terminal: web server, Celery worker, Celery beat, the device
simulator (the demo's intercoms, heartbeating on loopback), the fake Stripe server that
orders are paid on (its webhooks go to the portal) and the fake weather provider.

`make demo` calls this after `migrate` and `seed_demo`. The dev settings need no server
(SQLite plus kombu's filesystem broker under var/), so these processes are all there is.
Ctrl-C (or SIGTERM) stops them all; if one of them dies, the others are stopped too.
"""

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from demo.seed import DEMO_LOGINS
from devices.models import Device
from devices.services import provisioning_code

STOP_TIMEOUT = 10  # seconds a child gets to shut down after SIGTERM before SIGKILL


def _die_with_parent() -> None:
    """Linux only: have the kernel SIGTERM the child if rundemo itself is killed (even by SIGKILL).

    Without it a `kill -9` of rundemo would leave a worker and a server holding the port behind.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Command(BaseCommand):
    help = "Start the demo web server, Celery worker and Celery beat; Ctrl-C stops them all."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="web server port (default 8000)")
        parser.add_argument(
            "--no-worker", action="store_true", help="start only the web server (no Celery worker or beat)"
        )
        parser.add_argument("--no-simulator", action="store_true", help="do not run the simulated devices")
        parser.add_argument("--no-stripe", action="store_true", help="do not run the fake Stripe server")
        parser.add_argument("--no-weather", action="store_true", help="do not run the fake weather provider")
        # A second demo on the same machine needs its own device addresses (and web port).
        parser.add_argument(
            "--lan-network",
            default="127.77.0.0/16",
            help="loopback network of the simulated devices (default %(default)s)",
        )
        parser.add_argument(
            "--lan-port",
            type=int,
            default=settings.SMARTPLUS_DEVICE_LAN_PORT,
            help="their LAN API port, dialled by the portal (default %(default)s)",
        )

    def handle(self, *args, port: int, no_worker: bool, no_simulator: bool, **options):
        lan_network, lan_port = options["lan_network"], options["lan_port"]
        if _port_open(port):
            raise CommandError(f"Port {port} is already in use; stop that server or pass --port.")
        fake_stripe = self._fake_stripe(port) if not options["no_stripe"] else None
        fake_weather = self._fake_weather() if not options["no_weather"] else None

        run_dir = Path(getattr(settings, "DATA_DIR", Path(settings.BASE_DIR) / "var")) / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        # The port check above means no other demo runs here, so a beat pidfile left by a
        # crash is stale; Celery would refuse to start if its PID had been reused meanwhile.
        (run_dir / "celerybeat.pid").unlink(missing_ok=True)
        # kombu's filesystem transport does not create its folders, and worker and web
        # must agree on them before either sends or polls.
        if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
            opts = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            for key in ("data_folder_in", "data_folder_out", "processed_folder"):
                if opts.get(key):
                    Path(opts[key]).mkdir(parents=True, exist_ok=True)

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
            "PYTHONUNBUFFERED": "1",  # interleave the children's logs as they happen
            # The web server and the worker dial the devices on the port the simulator serves.
            "SMARTPLUS_DEVICE_LAN_PORT": str(lan_port),
        }
        bin_dir = Path(sys.executable).parent
        celery_exe = bin_dir / "celery"
        celery = [str(celery_exe)] if celery_exe.exists() else [sys.executable, "-m", "celery"]
        # --noreload: one process per child, so stopping it never leaves a reloader's child behind.
        commands = {
            "web server": [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
            ],
        }
        rm_port = getattr(settings, "SMARTPLUS_FAKE_RENTMANAGER_PORT", None)
        if rm_port and not _port_open(rm_port):
            # The fake Rent Manager the demo installer is linked to (demo.seed.seed_rentmanager).
            commands["fake Rent Manager"] = [
                sys.executable,
                "-m",
                "rentmanager.fake",
                "--port",
                str(rm_port),
                "--generate",
                settings.SMARTPLUS_FAKE_RENTMANAGER_GENERATE,
            ]
        if fake_stripe:
            commands["fake Stripe"] = fake_stripe  # its webhooks are retried until the portal answers
        if fake_weather:
            commands["fake weather provider"] = fake_weather
        if not no_worker:
            commands["celery worker"] = [*celery, "-A", "smartplus", "worker", "-l", "INFO", "-c", "1"]
            commands["celery beat"] = [
                *celery,
                "-A",
                "smartplus",
                "beat",
                "-l",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--schedule",
                str(run_dir / "celerybeat-schedule"),
                "--pidfile",
                str(run_dir / "celerybeat.pid"),
            ]

        # The simulated devices start once the web server answers, so first contact succeeds.
        later = {}
        if not no_simulator:
            later["device simulator"] = self._simulator(port, run_dir, lan_network, lan_port)

        # Handle the signals ourselves: children run in their own process group, so a
        # terminal Ctrl-C reaches only us and we stop them in order, once.
        stop_signal: list[int] = []

        def on_signal(signum, frame):
            stop_signal.append(signum)

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

        children: dict[str, subprocess.Popen] = {}
        try:
            for name, cmd in commands.items():
                children[name] = subprocess.Popen(
                    cmd, cwd=settings.BASE_DIR, env=env, process_group=0, preexec_fn=_die_with_parent
                )
            announced = False
            while not stop_signal:
                for name, proc in children.items():
                    if proc.poll() is not None:
                        raise CommandError(f"The {name} exited (code {proc.returncode}); demo stopped.")
                if not announced and _port_open(port):
                    for name, cmd in later.items():
                        children[name] = subprocess.Popen(
                            cmd, cwd=settings.BASE_DIR, env=env, process_group=0, preexec_fn=_die_with_parent
                        )
                    self._announce(port, list(children))
                    announced = True
                time.sleep(0.5)
            self.stdout.write("\nStopping the demo...")
        finally:
            self._stop(children)

    def _fake_stripe(self, port: int) -> list[str] | None:
        """The fake Stripe server the dev settings point the portal at (none when the environment
        names a real Stripe account, or the fake is not installed)."""
        if not getattr(settings, "SMARTPLUS_FAKE_STRIPE", False):
            return None
        if importlib.util.find_spec("billing.fakestripe") is None:
            return None
        stripe_port = settings.SMARTPLUS_FAKE_STRIPE_PORT
        if _port_open(stripe_port):
            raise CommandError(
                f"Port {stripe_port} (the fake Stripe server) is already in use; set "
                "SMARTPLUS_FAKE_STRIPE_PORT or pass --no-stripe."
            )
        try:
            webhook = reverse("billing:stripe_webhook")
        except NoReverseMatch:
            webhook = "/billing/stripe/webhook/"  # docs/billing.md
        return [
            sys.executable,
            "-m",
            "billing.fakestripe",
            "--port",
            str(stripe_port),
            "--api-key",
            settings.STRIPE_SECRET_KEY,
            "--webhook-url",
            f"http://127.0.0.1:{port}{webhook}",
            "--webhook-secret",
            settings.STRIPE_WEBHOOK_SECRET,
            "--retries",
            "8",
        ]

    def _fake_weather(self) -> list[str] | None:
        """The fake weather provider the dev settings point the portal at (none when they name
        another provider)."""
        if not getattr(settings, "SMARTPLUS_FAKE_WEATHER", False):
            return None
        if importlib.util.find_spec("weather.fakeprovider") is None:
            return None
        weather_port = settings.SMARTPLUS_FAKE_WEATHER_PORT
        if _port_open(weather_port):
            raise CommandError(
                f"Port {weather_port} (the fake weather provider) is already in use; set "
                "SMARTPLUS_FAKE_WEATHER_PORT or pass --no-weather."
            )
        return [sys.executable, "-m", "weather.fakeprovider", "--port", str(weather_port)]

    def _simulator(self, port: int, run_dir: Path, lan_network: str, lan_port: int) -> list[str]:
        """The demo's devices as they are in the database; secrets persist in the run folder."""
        # Each demo device is set up with its installer's provisioning code, so it is adopted at
        # first contact as an installer's devices are.
        rows = Device.objects.order_by("pk").values_list(
            "mac_address__mac", "firmware_version", "community__installer_id"
        )
        installers = User.objects.in_bulk({installer_id for _, _, installer_id in rows})
        codes = {pk: provisioning_code(actor=installer) for pk, installer in installers.items()}
        devices = [
            {"mac": mac, "firmware_version": version, "provisioning_code": codes[installer_id]}
            for mac, version, installer_id in rows
        ]
        devices_file = run_dir / "simulator-devices.json"
        devices_file.write_text(json.dumps(devices))
        return [
            sys.executable,
            "-m",
            "devices.simulator",
            "--portal",
            f"http://127.0.0.1:{port}",
            "--devices-file",
            str(devices_file),
            "--state",
            str(run_dir / "simulator-state.json"),
            "--reboot-seconds",
            "3",
            "--lan-network",
            lan_network,
            "--lan-port",
            str(lan_port),
            # Door and call events for the Logs pages (a few per device and minute, some images).
            "--events-per-minute",
            "2",
        ]

    def _announce(self, port: int, names: list[str]) -> None:
        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS(f"SmartPlus portal demo is running at http://127.0.0.1:{port}/"))
        out.write(f"Processes: {', '.join(names)}. Press Ctrl-C to stop.")
        if DEMO_LOGINS:
            rows = [("Role", "Username", "Password"), *[tuple(str(v) for v in row) for row in DEMO_LOGINS]]
            widths = [max(len(row[i]) for row in rows) for i in range(3)]
            line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
            out.write("\nDemo logins:")
            out.write(line)
            for i, row in enumerate(rows):
                cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                out.write("| " + " | ".join(cells) + " |")
                if i == 0:
                    out.write(line)
            out.write(line)
        out.write("")

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        """SIGTERM every child (warm shutdown for Celery), wait, then SIGKILL what is left."""
        running = {name: p for name, p in children.items() if p.poll() is None}
        for proc in running.values():
            proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in running.items():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {name} did not stop within {STOP_TIMEOUT} s; killing it.")
                proc.kill()
                proc.wait()
        # Anything a child left in its process group (e.g. Celery pool processes after a kill).
        for proc in children.values():
            with contextlib.suppress(OSError):  # the group is usually empty by now
                os.killpg(proc.pid, signal.SIGKILL)
