"""`python -m benchmarks [NAME ...]`: run the registered benchmarks and print one results table.

Exits 0 whether goals are met or missed (benchmarks report, tests assert); exits 1 only when a
benchmark itself crashed, since then its figures are missing rather than slow.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from . import harness


def parse_args(argv: list[str] | None, names: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all): {names}")
    parser.add_argument("--repeat", type=int, default=harness.Options.repeat, help="timed runs per figure")
    parser.add_argument("--warmup", type=int, default=harness.Options.warmup, help="untimed runs first")
    parser.add_argument("-v", "--verbose", action="store_true", help="add query logs and EXPLAIN plans")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(names)}")
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be at least 1 and --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    harness.setup_django()
    registry = harness.discover()
    args = parse_args(argv, sorted(registry))
    if args.list:
        for bench in registry.values():
            print(f"{bench.name:<20} {bench.doc}")
        return 0
    selected = [registry[name] for name in (args.names or registry)]
    options = harness.Options(repeat=args.repeat, warmup=args.warmup, verbose=args.verbose)
    report = harness.Report()
    crashed = []
    started = time.perf_counter()
    with harness.bench_database():
        for i, bench in enumerate(selected):
            if i:
                harness.flush_database()
            harness.log(f"running {bench.name} ...")
            report.section(bench.name)
            try:
                bench.fn(report, options)
            except Exception:
                # Keep going: the other benchmarks' figures are still worth printing.
                crashed.append(bench.name)
                report.add(f"{bench.name} crashed", "error")
                report.note(f"{bench.name} crashed:\n{traceback.format_exc()}")
    elapsed = time.perf_counter() - started

    print(report.render())
    for note in report.notes:
        print()
        print(note)
    print()
    missed = len(report.missed)
    summary = f"{len(selected)} benchmark(s) in {elapsed:.1f} s, {missed} goal(s) missed"
    print(summary + (f", crashed: {', '.join(crashed)}" if crashed else ""))
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
