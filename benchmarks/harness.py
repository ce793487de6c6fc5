"""The benchmark harness: Django set-up, a throw-away database, timing, query counting and a registry.

A benchmark is a function `fn(report, options)` registered with `@benchmark("name")` in a
`benchmarks/bench_*.py` module. It builds its own data (the database is flushed before each one),
times requests made with `client_for(user)` through the whole middleware stack, and adds figures to
the report. The database is a dedicated PostgreSQL database (`BENCH_DB_NAME`), created and migrated
by `bench_database()` and dropped when it exits, also on errors and on SIGTERM; the development
database and pytest's test database are never touched.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import signal
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# Overridable, so two worktrees can run benchmarks at once without dropping each other's database.
BENCH_DB_NAME = os.environ.get("SMARTPLUS_BENCH_DB_NAME", "test_smartplus_bench")
DEFAULT_SETTINGS = "smartplus.settings.test"


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the results table."""
    print(message, file=sys.stderr, flush=True)


# --- Django and the database ---


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    import django
    from django.conf import settings

    # WhiteNoise warns once that STATIC_ROOT was never collected; irrelevant to timing a page.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit(
            f"benchmarks need PostgreSQL; {os.environ['DJANGO_SETTINGS_MODULE']} uses "
            f"{settings.DATABASES['default']['ENGINE']} (run `make bench`)."
        )
    # The test Client sends Host: testserver; Django's test runner allows it the same way.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Deliberately no django.test.utils.setup_test_environment(): it instruments template rendering
    # (a signal and a context copy per rendered template), a cost a real request does not pay.


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """Create and migrate BENCH_DB_NAME, point the default connection at it, and drop it afterwards."""
    from django.conf import settings
    from django.db import connection

    original_name = connection.settings_dict["NAME"]
    if original_name == BENCH_DB_NAME:
        raise SystemExit(f"the configured database is already {BENCH_DB_NAME}; refusing to reuse it")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = BENCH_DB_NAME
    # Turn SIGTERM (e.g. a CI timeout) into SystemExit so the `finally` below still drops the database.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    log(f"creating database {BENCH_DB_NAME} and running migrations ...")
    try:
        # autoclobber: a database of this name can only be the leftover of a killed run.
        name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        if name != BENCH_DB_NAME:
            raise RuntimeError(f"created {name!r} instead of {BENCH_DB_NAME!r}")
        yield name
    finally:
        log(f"dropping database {BENCH_DB_NAME}")
        # Not destroy_test_db(): it drops whatever NAME the connection has, which is still the
        # development database if create_test_db failed early. This DROP can only name ours.
        connection.close()
        settings.DATABASES[connection.alias]["NAME"] = original_name
        connection.settings_dict["NAME"] = original_name
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB_NAME}" WITH (FORCE)')
        signal.signal(signal.SIGTERM, previous)


def flush_database() -> None:
    """Empty every table, so each benchmark starts from the same migrated, empty database."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def analyze() -> None:
    """Refresh the planner's statistics after bulk loading, as autovacuum would on a live database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def explain(sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a captured SELECT (captured SQL has its parameters inlined)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# --- Requests ---


def client_for(user):
    """A test Client logged in as `user`: real session, every middleware, no login form round-trip."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def get_ok(client, path: str, data: dict | None = None):
    """GET `path` and insist on a 200: timing a redirect to the login page or an error page is worthless."""
    response = client.get(path, data or {})
    if response.status_code != 200:
        raise AssertionError(f"GET {path} {data or ''} answered {response.status_code}, expected 200")
    return response


# --- Timing and queries ---


@dataclass(frozen=True)
class Timing:
    samples_ms: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def figure(self) -> str:
        """How a timing is printed: the median, and the 95th percentile."""
        return f"{ms(self.median)}  (p95 {ms(self.p95)})"

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank

    @property
    def min(self) -> float:
        return min(self.samples_ms)


def _sample(fn: Callable[[], object]) -> float:
    # Collect first so one run does not pay for the garbage of the previous ones.
    gc.collect()
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def timeit(fn: Callable[[], object], repeat: int = 30, warmup: int = 5) -> Timing:
    """Run `fn` `warmup` times untimed, then `repeat` times; wall-clock samples in milliseconds."""
    return timeit_interleaved({"fn": fn}, repeat=repeat, warmup=warmup)["fn"]


def timeit_interleaved(
    fns: dict[str, Callable[[], object]],
    repeat: int = 30,
    warmup: int = 5,
    before: Callable[[], object] | None = None,
) -> dict[str, Timing]:
    """Time several functions round-robin, so a load spike on the machine hits all of them alike.

    Figures that are compared as a ratio should be timed together here, not one after the other.
    `before`, if given, runs untimed before every run (e.g. to put the database back in one state).
    """
    for _ in range(warmup):
        for fn in fns.values():
            if before is not None:
                before()
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            if before is not None:
                before()
            samples[name].append(_sample(fn))
    return {name: Timing(tuple(values)) for name, values in samples.items()}


def capture_queries(fn: Callable[[], object]) -> list[dict]:
    """The queries `fn` runs (dicts with "sql" and "time"), even with DEBUG off.

    Copied out at once: the captured list is a view on the connection's query log, which the next
    request outside the capture empties.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return list(ctx.captured_queries)


def format_queries(queries: list[dict]) -> str:
    """One line per captured query: its time (Django records whole milliseconds) and its SQL, shortened."""
    lines = []
    for i, query in enumerate(queries, 1):
        sql = " ".join(query["sql"].split())
        lines.append(f"  {i:>2}. {float(query['time']) * 1000:3.0f} ms  {sql[:300]}")
    return "\n".join(lines)


def profile(fn: Callable[[], object], runs: int = 10, top: int = 25) -> str:
    """cProfile of `runs` calls of `fn`: the `top` functions by own time, to see where a page spends it."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue().strip()


# --- Report ---


def ms(value: float) -> str:
    return f"{value:.1f} ms"


def verdict(met: bool) -> str:
    return "goal met" if met else "goal missed"


@dataclass
class Row:
    label: str
    value: str = ""
    goal: str = ""
    met: bool | None = None  # None: a plain figure without a goal
    heading: bool = False


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.rows.append(Row(title, heading=True))

    def add(self, label: str, value: str, goal: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(label, value, goal, met))

    def ratio(self, label: str, top: Timing, bottom: Timing, goal: float) -> float:
        """A ratio of two medians with its "≤ goal"."""
        value = top.median / bottom.median
        self.add(label, f"{value:.2f}", f"≤ {goal}", value <= goal)
        return value

    def same_queries(self, label: str, *counts: int) -> None:
        """Query counts that must be equal (a page must not query more for more rows)."""
        self.add(label, " / ".join(str(c) for c in counts), "equal", len(set(counts)) == 1)

    def note(self, text: str) -> None:
        """Free text printed under the table (query logs, EXPLAIN output)."""
        self.notes.append(text)

    @property
    def missed(self) -> list[Row]:
        return [row for row in self.rows if row.met is False]

    def render(self) -> str:
        figures = [row for row in self.rows if not row.heading]
        label_w = max([len("benchmark"), *(len(r.label) for r in figures)]) + 3
        value_w = max([len("value"), *(len(r.value) for r in figures)]) + 3
        goal_w = max([len("goal"), *(len(r.goal) for r in figures)]) + 2
        lines = [f"{'benchmark':<{label_w}}{'value':<{value_w}}goal"]
        for row in self.rows:
            if row.heading:
                lines.append(f"[{row.label}]")
                continue
            judged = "" if row.met is None else verdict(row.met)
            lines.append(f"{row.label:<{label_w}}{row.value:<{value_w}}{row.goal:<{goal_w}}{judged}".rstrip())
        return "\n".join(lines)


# --- Registry ---


@dataclass(frozen=True)
class Options:
    repeat: int = 30
    warmup: int = 5
    verbose: bool = False  # add query logs and EXPLAIN plans to the report


@dataclass(frozen=True)
class Benchmark:
    name: str
    fn: Callable[[Report, Options], None]
    doc: str


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str):
    """Register `fn(report, options)` under `name` (what `python -m benchmarks NAME` selects)."""

    def register(fn: Callable[[Report, Options], None]):
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Benchmark(name, fn, doc[0] if doc else "")
        return fn

    return register


def discover() -> dict[str, Benchmark]:
    """Import every benchmarks/bench_*.py module, which registers its benchmarks."""
    import importlib
    import pkgutil

    package = sys.modules[__name__.rpartition(".")[0]]
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("bench_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    return REGISTRY
