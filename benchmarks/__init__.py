"""Performance benchmarks of the SmartPlus portal (`make bench`, or `python -m benchmarks [name ...]`).

Each `bench_*.py` module registers its benchmarks with `harness.benchmark`; `python -m benchmarks`
builds a throw-away PostgreSQL database, runs them through the same request path a browser uses and
prints one table of figures with their goals. Benchmarks report; the tests assert.
"""
