"""Webhook delivery as Stripe does it: a JSON POST per event and endpoint, signed with
`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (what stripe/_webhook.py
verifies), a non-2xx answer or a connection error retried a bounded number of times with backoff.

Switches make the delivery misbehave in the ways Stripe's does, so a webhook view can be tested against
them: each event sent `duplicate` times (at once with `concurrent`), a batch sent newest first
(`reorder`), late (`delay`), or never (`drop` the next N deliveries, `drop_percent` of them at random).
An event never delivered is still listed by GET /v1/events, as on Stripe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

log = logging.getLogger("billing.fakestripe")

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
REORDER_WINDOW = 0.5  # seconds the dispatcher gathers events into one batch when reordering


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass
class Switches:
    duplicate: int = 1  # copies of each event per endpoint
    concurrent: bool = False  # send the copies at the same moment, each from its own thread
    reorder: bool = False
    delay: float = 0.0  # seconds between an event and its delivery
    drop: int = 0  # the next N deliveries are dropped (counts down)
    drop_percent: float = 0.0

    def update(self, values: dict) -> None:
        """Set the given switches, all or (on a bad one) none."""
        staged = Switches(**asdict(self))
        staged._set(values)
        for name, value in asdict(staged).items():
            setattr(self, name, value)

    def _set(self, values: dict) -> None:
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown switch {name!r}; known: {', '.join(sorted(known))}")
            if name in ("concurrent", "reorder"):
                if isinstance(value, str):
                    value = value.lower() in ("1", "true", "yes", "on")
                setattr(self, name, bool(value))
            elif name in ("duplicate", "drop"):
                value = int(value)
                if value < (1 if name == "duplicate" else 0):
                    raise ValueError(f"{name} must be at least {1 if name == 'duplicate' else 0}")
                setattr(self, name, value)
            else:
                value = float(value)
                if value < 0 or (name == "drop_percent" and value > 100):
                    raise ValueError(f"{name} out of range: {value}")
                setattr(self, name, value)

    def as_dict(self) -> dict:
        return asdict(self)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stripe treats a redirect as a failed delivery; urllib would follow it (as a GET)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class Dispatcher:
    """One thread takes the events in the order they were made and delivers them."""

    def __init__(
        self,
        urls: list[str],
        secret: str,
        *,
        switches: Switches,
        on_delivered: Callable[[str], None],
        retries: int = 3,
        retry_backoff: float = 0.2,
        timeout: float = 10.0,
        seed: int | None = None,
    ) -> None:
        self.urls = list(urls)
        self.secret = secret
        self.switches = switches
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.timeout = timeout
        self._on_delivered = on_delivered
        self._random = random.Random(seed)
        self._queue: queue.Queue[tuple[float, dict]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._changed = threading.Condition()
        self._pending = 0  # events queued or being delivered
        self.deliveries: list[dict] = []
        self._succeeded: set[tuple[str, str]] = set()  # (event, url): pending_webhooks counts each once
        self.switch_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fakestripe-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, events: list[dict]) -> None:
        if not events:
            return
        with self._changed:
            self._pending += len(events)
        due = time.monotonic()
        for event in events:
            self._queue.put((due, event))

    # --- waiting, for tests ---

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def idle(self) -> bool:
        return self._pending == 0

    def records(self, **match) -> list[dict]:
        with self._changed:
            return [dict(d) for d in self.deliveries if all(d.get(k) == v for k, v in match.items())]

    # --- the thread ---

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._queue.get(timeout=0.1)]
            except queue.Empty:
                continue
            with self.switch_lock:
                reorder, delay = self.switches.reorder, self.switches.delay
            if reorder:
                # Gather what else comes within the window, then send the newest first.
                deadline = time.monotonic() + REORDER_WINDOW
                while (remaining := deadline - time.monotonic()) > 0:
                    try:
                        batch.append(self._queue.get(timeout=remaining))
                    except queue.Empty:
                        break
                batch.reverse()
            for due, event in batch:
                if delay and self._stop.wait(max(0.0, due + delay - time.monotonic())):
                    return
                try:
                    self._deliver(event)
                except Exception:  # a bug here must not end every later delivery
                    log.exception("Delivering %s failed", event["id"])
                finally:
                    with self._changed:
                        self._pending -= 1
                        self._changed.notify_all()

    def _deliver(self, event: dict) -> None:
        payload = json.dumps(event, indent=2)
        for url in self.urls:
            with self.switch_lock:
                copies = self.switches.duplicate
                concurrent = self.switches.concurrent
            jobs = [(url, copy) for copy in range(1, copies + 1)]
            if concurrent and copies > 1:
                threads = [
                    threading.Thread(target=self._send_with_retries, args=(event, payload, u, c), daemon=True)
                    for u, c in jobs
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(self.timeout * (self.retries + 1) + 30)
            else:
                for u, c in jobs:
                    self._send_with_retries(event, payload, u, c)

    def _dropping(self) -> bool:
        with self.switch_lock:
            if self.switches.drop > 0:
                self.switches.drop -= 1
                return True
            return self.switches.drop_percent > 0 and self._random.random() * 100 < self.switches.drop_percent

    def _send_with_retries(self, event: dict, payload: str, url: str, copy: int) -> None:
        if self._dropping():
            self._record(event, url, copy, attempt=0, status=None, error="dropped", dropped=True)
            log.info("Dropped %s %s (copy %d) for %s", event["type"], event["id"], copy, url)
            return
        for attempt in range(1, self.retries + 2):
            status, error = self._send(payload, url)
            ok = status is not None and 200 <= status < 300
            if ok:  # before the record, so whoever waits for it sees pending_webhooks already counted
                with self._changed:
                    first = (event["id"], url) not in self._succeeded
                    self._succeeded.add((event["id"], url))
                if first:
                    self._on_delivered(event["id"])
            self._record(event, url, copy, attempt=attempt, status=status, error=error, dropped=False)
            log.info(
                "Sent %s %s (copy %d, attempt %d) to %s: %s",
                event["type"],
                event["id"],
                copy,
                attempt,
                url,
                status if status is not None else error,
            )
            if ok:
                return
            if attempt <= self.retries and self._stop.wait(self.retry_backoff * 2 ** (attempt - 1)):
                return

    def _send(self, payload: str, url: str) -> tuple[int | None, str | None]:
        body = payload.encode()
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "Stripe-Signature": sign(payload, self.secret),
            },
        )
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                response.read()
                return response.status, None
        except urllib.error.HTTPError as exc:
            exc.read()
            exc.close()
            return exc.code, None
        except (OSError, ValueError) as exc:  # URLError, refused, timeout, a malformed URL
            return None, f"{type(exc).__name__}: {exc}"

    def _record(self, event, url, copy, *, attempt, status, error, dropped) -> None:
        entry = {
            "event_id": event["id"],
            "type": event["type"],
            "url": url,
            "copy": copy,
            "attempt": attempt,
            "status": status,
            "ok": status is not None and 200 <= status < 300,
            "dropped": dropped,
            "error": error,
            "at": time.time(),
        }
        with self._changed:
            self.deliveries.append(entry)
            self._changed.notify_all()
