"""Real processes for the fleet benchmarks: gunicorn, a Celery worker and the device simulator, each
on the benchmark database, with their output in a log file; plus waits with timeouts, CPU accounting
from /proc, and a small asyncio load generator for heartbeats.

Every process is started in its own session (so a Ctrl-C in the terminal reaches only the bench,
which then stops them in order) and asked to die with the bench process (PR_SET_PDEATHSIG), so a
killed bench leaves nothing running. `Processes` stops them all on the way out, also on errors and
KeyboardInterrupt, and on an error puts the tail of each log in the report's notes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .harness import Report, log

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LOG_TAIL_LINES = 40


class BenchFailure(AssertionError):
    """Something the benchmark waits for did not happen: the message names it."""


# --- ports, database, environment ----------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on every address (the simulator listens on a thousand loopback addresses)."""
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def bench_database_url(conn_max_age: int | None = 600) -> str:
    """The URL of the benchmark database the bench process is connected to, for the subprocesses."""
    from django.db import connection

    d = connection.settings_dict
    auth = f"{quote(d['USER'] or '', safe='')}:{quote(d['PASSWORD'] or '', safe='')}@" if d["USER"] else ""
    url = f"postgres://{auth}{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"
    return f"{url}?conn_max_age={conn_max_age}" if conn_max_age is not None else url


def portal_env(queue: str, **settings: object) -> dict[str, str]:
    """The environment of a portal process (web or worker): the bench database, the real queue."""
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "smartplus.settings.test"),
        DATABASE_URL=bench_database_url(),
        CELERY_TASK_ALWAYS_EAGER="0",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore:No directory at:UserWarning",  # WhiteNoise: statics are not collected
    )
    env.update({key: str(value) for key, value in settings.items()})
    return env


# --- processes -------------------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Service:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    stopped: bool = False  # stopped on purpose: its exit is not a failure

    def start(self) -> Service:
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # the bench process runs no threads
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def ensure_alive(self) -> None:
        if self.proc is not None and not self.stopped and self.proc.poll() is not None:
            raise BenchFailure(f"{self.name} exited with code {self.proc.returncode}; see its log below")

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.output().splitlines()[-lines:]) or "(no output)"

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (gunicorn and Celery shut down warmly, the simulator closes its fleet), then
        SIGKILL of the whole process group after `timeout`."""
        if self.proc is None:
            return
        self.stopped = True
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"  {self.name} did not stop within {timeout:g} s; killing it")
        self.kill()

    def kill(self) -> None:
        """SIGKILL to its process group: its own session, so the group holds only what it started."""
        if self.proc is None:
            return
        self.stopped = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


class Processes:
    """The subprocesses of one benchmark: started in order, stopped in reverse, logs kept on failure
    (their directory is named in the notes)."""

    def __init__(self, report: Report, label: str):
        self.report = report
        self.directory = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
        self.services: list[Service] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Service:
        slug = name.replace(" ", "-")
        service = Service(name, args, env, self.directory / f"{len(self.services)}-{slug}.log")
        self.services.append(service)
        log(f"  starting {name}")
        return service.start()

    def stop(self, service: Service) -> None:
        service.stop()

    def ensure_alive(self) -> None:
        for service in self.services:
            service.ensure_alive()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            for service in reversed(self.services):
                try:
                    service.stop()
                except BaseException:  # e.g. a second Ctrl-C: stop waiting, but leave nothing running
                    for other in self.services:
                        other.kill()
                    raise
        finally:
            # Logs are kept (and shown) when the benchmark failed, not when it was interrupted.
            if exc_type is None or not issubclass(exc_type, Exception):
                shutil.rmtree(self.directory, ignore_errors=True)
            else:
                for service in self.services:
                    self.report.note(
                        f"{service.name} ({' '.join(service.args[:3])} ...), last lines of "
                        f"{service.log_path}:\n{service.tail()}"
                    )


def wait_for(
    what: str,
    predicate: Callable[[], object],
    timeout: float,
    *,
    interval: float = 0.2,
    processes: Processes | None = None,
    progress: Callable[[], str] | None = None,
):
    """Poll `predicate` until it returns something truthy (returned); fail naming `what` on timeout
    or as soon as one of `processes` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        if processes is not None:
            processes.ensure_alive()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f" ({progress()})" if progress is not None else ""
            raise BenchFailure(f"{what} did not happen within {timeout:g} s{detail}")
        time.sleep(interval)


# --- the portal's processes --------------------------------------------------------------------------


def start_gunicorn(processes: Processes, port: int, workers: int, env: dict[str, str]) -> Service:
    return processes.start(
        f"gunicorn -w {workers}",
        [
            str(VENV_BIN / "gunicorn"),
            "smartplus.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "5",
        ],
        env,
    )


# The compose file's device-api command line (docker-compose.yml), so the bench measures what runs.
DEVICE_API_WORKER_ARGS = ["--worker-class", "gthread", "--threads", "4", "--keep-alive", "75"]


def start_device_api(
    processes: Processes,
    port: int,
    workers: int,
    env: dict[str, str],
    app: str = "smartplus.device_wsgi:application",
) -> Service:
    """gunicorn as the compose `device-api` service runs it: `app` on smartplus.settings.device_api."""
    return processes.start(
        f"device API gunicorn ({app.split(':')[0]})",
        [
            str(VENV_BIN / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *DEVICE_API_WORKER_ARGS,
            "--log-level",
            "warning",
            "--graceful-timeout",
            "5",
        ],
        env,
    )


def device_api_env(**settings: object) -> dict[str, str]:
    """The device API service's environment: its production-based settings on the bench database."""
    from django.conf import settings as django_settings

    env = portal_env("device-api-bench", **settings)
    env.update(
        DJANGO_SETTINGS_MODULE="smartplus.settings.device_api",
        SECRET_KEY="bench-device-api-only-secret-key-" + "0" * 40,
        SMARTPLUS_FIELD_KEYS="ZmFrZS10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on loopback, as behind the TLS proxy
        SMARTPLUS_TRUSTED_PROXIES="0",
        # As compose runs it: known devices answered from Redis, liveness written in batches.
        SMARTPLUS_DEVICE_LIVENESS="redis",
        SMARTPLUS_DEVICE_LIVENESS_PREFIX=f"bench-liveness-{os.getpid()}-{uuid.uuid4().hex[:8]}:",
        REDIS_URL=django_settings.REDIS_URL,
    )
    env.update({key: str(value) for key, value in settings.items()})
    return env


def http_status(port: int, method: str, path: str, headers: dict | None = None, timeout: float = 3.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=b"{}" if method == "POST" else None, headers=headers or {})
        return conn.getresponse().status
    finally:
        conn.close()


def wait_for_portal(processes: Processes, port: int, timeout: float = 60) -> None:
    """Until the device API answers a heartbeat with wrong credentials with 401: a worker has
    loaded Django and reached the database (authentication queries it)."""
    bogus = {"Authorization": "Basic MEMxMTA1MDAwMDAxOm5vcGU=", "Content-Type": "application/json"}
    last = ["no answer yet"]

    def answers() -> bool:
        try:
            status = http_status(port, "POST", "/device-api/v1/heartbeat", bogus)
        except OSError as exc:
            last[0] = f"{type(exc).__name__}: {exc}"
            return False
        last[0] = f"last answer HTTP {status}, expected 401"
        return status == 401

    wait_for(
        f"gunicorn answering on 127.0.0.1:{port}",
        answers,
        timeout,
        interval=0.3,
        processes=processes,
        progress=lambda: last[0],
    )


def start_worker(processes: Processes, queue: str, env: dict[str, str], concurrency: int = 2) -> Service:
    return processes.start(
        "celery worker",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "smartplus",
            "worker",
            "-c",
            str(concurrency),
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        env,
    )


def wait_for_worker(processes: Processes, queue: str, timeout: float = 60) -> None:
    """Until the worker named after the queue answers a ping (its consumers are then running)."""
    from smartplus.celery import app

    node = f"{queue}@{socket.gethostname()}"
    wait_for(
        f"the Celery worker {node} answering a ping",
        lambda: app.control.ping(destination=[node], timeout=0.5),
        timeout,
        interval=0.2,
        processes=processes,
    )


def _route_all_tasks(routes) -> None:
    from smartplus.celery import app

    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # cached; rebuilt from the routes on next use


@contextlib.contextmanager
def real_queue(queue: str, routes: dict | None = None) -> Iterator[None]:
    """Tasks sent by the bench process go to `queue` on the broker instead of running eagerly
    (or as `routes` say, `queue` for the rest); the queue is emptied and deleted afterwards (the
    worker leaves deadline checks behind)."""
    from smartplus.celery import app

    old = app.conf.task_always_eager, app.conf.task_routes
    app.conf.task_always_eager = False
    _route_all_tasks({**(routes or {}), "*": {"queue": queue}})
    try:
        yield
    finally:
        app.conf.task_always_eager = old[0]
        _route_all_tasks(old[1])
        with contextlib.suppress(Exception):
            delete_queue(queue)


def delete_queue(queue: str) -> int:
    """Purge and delete `queue` on the broker; returns how many messages were left in it."""
    from kombu import Exchange, Queue

    from smartplus.celery import app

    with app.connection_for_write() as conn:
        bound = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
        bound.declare()
        left = bound.purge() or 0
        bound.delete()
        return left


def queue_length(queue: str) -> int:
    from smartplus.celery import app

    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        return int(sum(client.llen(key) for key in client.scan_iter(f"{queue}*")))


def start_simulator(processes: Processes, port: int, **options: object) -> Service:
    args = [sys.executable, "-m", "devices.simulator", "--portal", f"http://127.0.0.1:{port}"]
    for key, value in options.items():
        # One argument each: a value may start with "-" (a provisioning code does, now and then).
        args.append(f"--{key.replace('_', '-')}={value}")
    return processes.start("device simulator", args, os.environ.copy())


# --- CPU accounting -----------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()  # fields from the 3rd on (the name may hold spaces)


@dataclass(frozen=True)
class ProcessCpu:
    parent: int
    cpu: float  # user + system seconds of the process itself
    reaped: float  # ... of its children that ended and were waited for (cutime + cstime)


def cpu_snapshot() -> dict[int, ProcessCpu]:
    """Every process's parent and CPU seconds, from /proc."""
    snapshot = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (f := _stat(int(entry))) is not None:
            snapshot[int(entry)] = ProcessCpu(
                int(f[1]), (int(f[11]) + int(f[12])) / CLOCK_TICKS, (int(f[13]) + int(f[14])) / CLOCK_TICKS
            )
    return snapshot


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS, sum(values[:8]) / CLOCK_TICKS


@dataclass(frozen=True)
class Database:
    backends: list[int]  # connected to the benchmark database, other than the bench's own
    postmaster: int | None  # their parent: ended connections' CPU is added to its children's


def database_processes() -> Database:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT pg_backend_pid()")
        ours = cursor.fetchone()[0]
    stat = _stat(ours)
    return Database([pid for pid in pids if pid != ours], int(stat[1]) if stat else None)


def database_sessions() -> int:
    """Connections ever opened to the benchmark database (pg_stat_database.sessions, PostgreSQL 14+;
    a backend reports its session by the time it ends)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@dataclass
class CpuMark:
    processes: dict[int, ProcessCpu]
    busy: float
    total: float
    wall: float


def cpu_mark() -> CpuMark:
    busy, total = machine_cpu()
    return CpuMark(cpu_snapshot(), busy, total, time.monotonic())


def _tree(processes: dict[int, ProcessCpu], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, process in processes.items():
        children.setdefault(process.parent, []).append(pid)
    tree, todo = set(), [root]
    while todo:
        current = todo.pop()
        tree.add(current)
        todo.extend(children.get(current, []))
    return tree


@dataclass
class CpuUse:
    """Cores used per group between two marks, the machine's busy cores and its core count."""

    cores: dict[str, float]
    busy: float
    total: float

    @property
    def elsewhere(self) -> float:
        return max(self.busy - sum(self.cores.values()), 0.0)

    def __str__(self) -> str:
        parts = [f"{name} {used:.2f}" for name, used in self.cores.items()]
        parts.append(f"everything else {self.elsewhere:.2f}")
        return f"cores busy {self.busy:.2f} of {self.total:.1f}: " + ", ".join(parts)


def cpu_use(
    before: CpuMark,
    after: CpuMark,
    roots: dict[str, int],
    database: Database,
    singles: dict[str, int] | None = None,
) -> CpuUse:
    """Cores used between two marks by each process tree of `roots`, by the PostgreSQL backends
    still connected to the benchmark database, by connections that ended meanwhile (any database:
    PostgreSQL cannot tell), and by each process of `singles` (without its children). "everything
    else" is what the rest of the machine used (other people's tests, PostgreSQL's background
    processes, ...)."""
    wall = after.wall - before.wall
    groups = {name: _tree(after.processes, root) for name, root in roots.items()}
    groups["PostgreSQL backends"] = set(database.backends)
    groups.update({name: {pid} for name, pid in (singles or {}).items()})
    zero = ProcessCpu(0, 0.0, 0.0)
    cores = {
        name: sum(
            after.processes[p].cpu - before.processes.get(p, zero).cpu for p in pids if p in after.processes
        )
        / wall
        for name, pids in groups.items()
    }
    if database.postmaster in after.processes and database.postmaster in before.processes:
        reaped = after.processes[database.postmaster].reaped - before.processes[database.postmaster].reaped
        cores["PostgreSQL connections that ended (any database)"] = reaped / wall
    return CpuUse(cores, (after.busy - before.busy) / wall, (after.total - before.total) / wall)


# --- heartbeat load generator -----------------------------------------------------------------------------


@dataclass
class LoadResult:
    seconds: float
    ok: int
    other: dict[str, int]  # non-200 statuses and connection errors, by kind
    latencies_ms: list[float]
    client_cpu: float  # CPU seconds the generator itself used while measuring

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * p + 0.5) - 1))]


def heartbeat_requests(port: int, credentials: list[tuple[str, str]], body: bytes) -> list[bytes]:
    """One prebuilt HTTP/1.1 request per device: the generator only sends bytes."""
    import base64

    requests = []
    for mac, secret in credentials:
        auth = base64.b64encode(f"{mac}:{secret}".encode()).decode()
        head = (
            f"POST /device-api/v1/heartbeat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def _load(
    port: int,
    requests: list[bytes],
    concurrency: int,
    warmup: float,
    seconds: float,
    mark: Callable[[], None] | None,
) -> LoadResult:
    loop = asyncio.get_running_loop()
    address = ("127.0.0.1", port)
    start = loop.time()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    ok = 0
    other: dict[str, int] = {}
    latencies: list[float] = []
    cpu_marks: list[float] = []
    count = len(requests)
    next_index = 0
    # Abortive close: the server has already closed (Connection: close), so the RST leaves no
    # TIME_WAIT behind on either side after tens of thousands of connections.
    linger = (1).to_bytes(4, sys.byteorder) + (0).to_bytes(4, sys.byteorder)

    async def one(request: bytes) -> bytes:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
            await loop.sock_sendall(sock, request)
            head = b""
            while True:
                chunk = await loop.sock_recv(sock, 65536)
                if not chunk:
                    break
                if len(head) < 12:
                    head += chunk[:12]
            return head[9:12]
        finally:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            sock.close()

    async def client() -> None:
        nonlocal ok, next_index
        while True:
            began = loop.time()
            if began >= stop_at:
                return
            request = requests[next_index % count]
            next_index += 1
            try:
                async with asyncio.timeout(10):
                    status = await one(request)
            except (OSError, TimeoutError) as exc:
                status = type(exc).__name__.encode()
            ended = loop.time()
            if measure_from <= began and ended <= stop_at:
                if status == b"200":
                    ok += 1
                    latencies.append((ended - began) * 1000)
                else:
                    key = status.decode(errors="replace") or "empty reply"
                    other[key] = other.get(key, 0) + 1

    async def mark_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        cpu_marks.append(time.process_time())
        if mark is not None:
            mark()
        await asyncio.sleep(max(0.0, stop_at - loop.time()))
        cpu_marks.append(time.process_time())
        if mark is not None:
            mark()

    await asyncio.gather(mark_cpu(), *(client() for _ in range(concurrency)))
    return LoadResult(seconds, ok, other, latencies, cpu_marks[1] - cpu_marks[0])


def run_heartbeat_load(
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    warmup: float,
    seconds: float,
    mark: Callable[[], None] | None = None,
) -> LoadResult:
    """`concurrency` connections in a loop for warmup + seconds; counts what finished in the window.
    `mark` is called when the measured window opens and when it closes (e.g. to sample CPU)."""
    return asyncio.run(_load(port, requests, concurrency, warmup, seconds, mark))
