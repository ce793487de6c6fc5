"""Helpers of the tests that run a real Celery worker: hold it mid-import, and log what it ran."""

from __future__ import annotations

import threading
import time

from celery import signals

from smartplus import importing


class Gate:
    """Holds the worker once, half-way through an import's `phase`, until `release` is set: the
    import's page is then looked at mid-work, however fast the worker is.

    While held, the worker reports its progress again every 0.1 s: other test runs on the machine
    share the Redis cache, and each of their tests flushes it.
    """

    def __init__(self, monkeypatch, phase: str, *, hold_seconds: float = 30):
        self.reached, self.release = threading.Event(), threading.Event()
        report = importing.Progress.__call__
        gate = self

        def held(progress, done, **kwargs):
            report(progress, done, **kwargs)
            if gate.reached.is_set() or progress.phase != phase or not done or done < progress.total // 2:
                return
            gate.reached.set()
            deadline = time.monotonic() + hold_seconds  # never hold a worker forever
            while not gate.release.wait(0.1) and time.monotonic() < deadline:
                progress._last = -1
                report(progress, done)

        monkeypatch.setattr(importing.Progress, "__call__", held)


class TaskLog:
    """The name and arguments of every task the worker ran (Celery's task_prerun signal)."""

    def __init__(self):
        self.runs: list[tuple[str, tuple]] = []
        signals.task_prerun.connect(self._record, weak=False)

    def _record(self, sender=None, args=(), **kwargs):
        self.runs.append((sender.name, tuple(args)))

    def named(self, name: str) -> list[tuple]:
        return [args for task, args in self.runs if task == name]

    def close(self) -> None:
        signals.task_prerun.disconnect(self._record)


def wait_until(predicate, timeout: float = 20) -> bool:
    """Whether `predicate()` came true within `timeout` seconds (polled every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
