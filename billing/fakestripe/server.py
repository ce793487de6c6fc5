"""The HTTP server: Stripe's v1 API for Checkout Sessions and events, the hosted page, test controls."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import page
from .errors import StripeError
from .forms import decode, parse_pairs
from .store import API_VERSION, MAX_EXPIRY, Store, new_id, snapshot
from .webhooks import Dispatcher, Switches

log = logging.getLogger("billing.fakestripe")

MAX_BODY = 1 << 20


class FakeStripeError(RuntimeError):
    """The fake could not start, or a wait for deliveries ran out of time."""


class FakeStripe:
    """A fake Stripe on a port of 127.0.0.1; see docs/fake-stripe.md.

        with FakeStripe(api_key="sk_test_x", webhook_url=url, webhook_secret="whsec_x") as fake:
            client = stripe.StripeClient("sk_test_x", base_addresses={"api": fake.url})
            ...
            fake.pay(session_id)
            fake.wait_for_deliveries(1, timeout=5)

    `switches` are Switches' fields (duplicate, concurrent, reorder, delay, drop, drop_percent).
    """

    def __init__(
        self,
        api_key: str = "sk_test_fakestripe",
        webhook_url: str | list[str] | None = None,
        webhook_secret: str = "whsec_fakestripe",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        session_timeout: float = MAX_EXPIRY,
        api_version: str = API_VERSION,
        retries: int = 3,
        retry_backoff: float = 0.2,
        webhook_timeout: float = 10.0,
        async_delay: float = 2.0,
        sweep_interval: float = 0.5,
        seed: int | None = None,
        **switches,
    ) -> None:
        self.api_key = api_key
        self.host = host
        self.port = port
        self.public_url = public_url.rstrip("/") if public_url else None
        self.async_delay = async_delay
        self.sweep_interval = sweep_interval
        urls = [webhook_url] if isinstance(webhook_url, str) else list(webhook_url or [])
        self.switches = Switches()
        self.switches.update(switches)
        self.dispatcher = Dispatcher(
            urls,
            webhook_secret,
            switches=self.switches,
            on_delivered=lambda event_id: self.store.delivered(event_id),
            retries=retries,
            retry_backoff=retry_backoff,
            timeout=webhook_timeout,
            seed=seed,
        )
        self.store = Store(
            public_url=lambda: self.public_url or self.url,
            on_events=self.dispatcher.submit,
            session_timeout=session_timeout,
            api_version=api_version,
            webhook_count=lambda: len(self.dispatcher.urls),
        )
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._timers: list[threading.Timer] = []
        self._stopping = threading.Event()

    # --- lifecycle ---

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeStripe:
        if self._server is not None:
            raise FakeStripeError("The fake Stripe server was started already")
        try:
            self._server = _Server((self.host, self.port), _Handler)
        except OSError as exc:
            raise FakeStripeError(f"Cannot listen on {self.host}:{self.port}: {exc}") from exc
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.dispatcher.start()
        serve = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="fakestripe-http",
            daemon=True,
        )
        sweeper = threading.Thread(target=self._sweep, name="fakestripe-sweeper", daemon=True)
        self._threads = [serve, sweeper]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, sweeping and delivering; safe to call twice."""
        self._stopping.set()
        for timer in self._timers:
            timer.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.dispatcher.stop()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _sweep(self) -> None:
        while not self._stopping.wait(self.sweep_interval):
            self.store.expire_due()

    # --- what a customer or a test does ---

    def pay(self, session_id: str) -> dict:
        """The customer pays by card: complete and paid, checkout.session.completed."""
        return self.store.pay(session_id, "paid")[0]

    def fail(self, session_id: str) -> dict:
        """A delayed payment method that fails: completed unpaid, then async_payment_failed."""
        return self.store.pay(session_id, "failed")[0]

    def pay_later(self, session_id: str, delay: float | None = None) -> dict:
        """A delayed method that succeeds: completed unpaid now, async_payment_succeeded after `delay`."""
        session = self.store.pay(session_id, "pending")[0]
        timer = threading.Timer(
            self.async_delay if delay is None else delay, self._settle, args=(session_id,)
        )
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()
        return session

    def _settle(self, session_id: str) -> None:
        try:
            self.store.settle(session_id)
        except StripeError as exc:
            log.warning("Could not settle %s: %s", session_id, exc.message)

    def expire(self, session_id: str) -> dict:
        return self.store.expire(session_id)

    def session(self, session_id: str) -> dict:
        with self.store.lock:
            return snapshot(self.store.session(session_id))

    # --- switches and what was delivered ---

    def set_switches(self, **values) -> dict:
        with self.dispatcher.switch_lock:
            self.switches.update(values)
            return self.switches.as_dict()

    def get_switches(self) -> dict:
        with self.dispatcher.switch_lock:
            return self.switches.as_dict()

    @property
    def webhook_urls(self) -> list[str]:
        return list(self.dispatcher.urls)

    @webhook_urls.setter
    def webhook_urls(self, urls: list[str]) -> None:
        self.dispatcher.urls = list(urls)

    @property
    def deliveries(self) -> list[dict]:
        """Every delivery attempt, oldest first: event_id, type, url, copy, attempt (0 when dropped),
        status (None without an HTTP answer), ok, dropped, error, at."""
        return self.dispatcher.records()

    @property
    def events(self) -> list[dict]:
        """Every event, oldest first (GET /v1/events lists them newest first)."""
        with self.store.lock:
            return [snapshot(event) for event in self.store.events]

    def wait_for_deliveries(self, n: int, timeout: float = 5.0, **match) -> list[dict]:
        """Wait until at least `n` delivery records match `match` (e.g. type=..., ok=True); return those."""

        if not self.dispatcher.wait(lambda: len(self.dispatcher.records(**match)) >= n, timeout):
            seen = [(d["type"], d["status"], d["attempt"], d["dropped"]) for d in self.dispatcher.records()]
            found = len(self.dispatcher.records(**match))
            raise FakeStripeError(f"{found} of {n} deliveries matching {match} in {timeout:g} s: {seen}")
        return self.dispatcher.records(**match)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until every event made so far has been delivered, dropped or given up on."""
        if not self.dispatcher.wait(self.dispatcher.idle, timeout):
            raise FakeStripeError(f"Webhook deliveries still running after {timeout:g} s")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeStripe


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's HTTP clients expect
    # Headers and body go out in two writes; with Nagle on, each keep-alive answer waits for the
    # client's delayed ACK (40 ms on Linux).
    disable_nagle_algorithm = True
    server_version = "FakeStripe/1.0"
    server: _Server

    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # --- plumbing ---

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the unread body would be taken for the next request
            self._send(413 if length > 0 else 400, b"Bad Content-Length\n", "text/plain")
            return
        body = self.rfile.read(length) if length else b""
        try:
            if path.startswith("/v1/"):
                self._api(fake, method, path, parts.query, body)
            elif path.startswith("/pay/"):
                self._page(fake, method, path[len("/pay/") :], body)
            elif path.startswith("/_fake/"):
                self._control(fake, method, path, body)
            elif path == "/" and method == "GET":
                self._send(200, b"Fake Stripe: see docs/fake-stripe.md\n", "text/plain")
            else:
                self._send(404, b"Not found\n", "text/plain")
        except Exception:
            log.exception("%s %s failed", method, self.path)
            self._json(500, {"error": {"type": "api_error", "message": "The fake Stripe server failed."}})

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: dict, headers: dict | None = None) -> None:
        self._send(status, json.dumps(obj, indent=2).encode(), "application/json", headers)

    def _redirect(self, location: str) -> None:
        self._send(303, b"", "text/plain", {"Location": location})

    # --- the API ---

    def _api(self, fake: FakeStripe, method: str, path: str, query: str, body: bytes) -> None:
        request_id = new_id("req_", 14)
        headers = {"Request-Id": request_id, "Stripe-Version": fake.store.api_version}
        try:
            self._authenticate(fake.api_key)
            if method == "POST":
                pairs = parse_pairs(body.decode("utf-8", "replace"))
                key = self.headers.get("Idempotency-Key")
                if key:
                    headers["Idempotency-Key"] = key
                status, obj, replayed = self._idempotent(
                    fake, key, path, pairs, lambda: self._post(fake, path, decode(pairs), request_id, key)
                )
                if replayed:
                    headers["Idempotent-Replayed"] = "true"
            elif method == "GET":
                status, obj = 200, self._get(fake, path, decode(parse_pairs(query)))
            else:
                raise _unrecognized(method, path)
        except StripeError as exc:
            status, obj = exc.status, exc.body()
        self._json(status, obj, headers)

    def _authenticate(self, api_key: str) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            given = credentials.strip()
        elif scheme.lower() == "basic":  # curl -u sk_test_...:
            try:
                given = base64.b64decode(credentials).decode().partition(":")[0]
            except ValueError:
                given = ""
        else:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if not hmac.compare_digest(given.encode(), api_key.encode()):
            raise StripeError(401, f"Invalid API Key provided: {_mask(given)}")

    def _idempotent(self, fake: FakeStripe, key, path: str, pairs: list, run):
        """Stripe's rule: a key replays its first successful answer for the same endpoint and
        parameters, and refuses other parameters. Validation errors are not saved, as on Stripe."""
        store = fake.store
        if not key:
            return 200, run(), False
        if len(key) > 255:
            raise StripeError(
                400, "Idempotency-Key must be no longer than 255 characters.", type="idempotency_error"
            )
        endpoint, canonical = f"POST {path}", sorted(pairs)
        with store.lock:  # serializes requests, so two with one key never both run
            saved = store.idempotency.get(key)
            if saved is not None:
                saved_endpoint, saved_pairs, status, obj = saved
                if saved_endpoint != endpoint:
                    raise StripeError(
                        400,
                        "Keys for idempotent requests can only be used for the same endpoint they were first "
                        f"used for ('{saved_endpoint}' vs '{endpoint}'). Try using a key other than '{key}' "
                        "if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                if saved_pairs != canonical:
                    raise StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{key}' if you meant to execute a "
                        "different request.",
                        type="idempotency_error",
                    )
                return status, snapshot(obj), True
            obj = run()
            store.idempotency[key] = (endpoint, canonical, 200, snapshot(obj))
            return 200, obj, False

    def _post(self, fake: FakeStripe, path: str, params: dict, request_id: str, key: str | None) -> dict:
        store = fake.store
        request = {"id": request_id, "idempotency_key": key}
        if path == "/v1/checkout/sessions":
            session = store.create_session(params)
            return self._expanded(store, session, params.get("expand"))
        if match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)/expire", path):
            session = store.expire(match[1], request)
            return self._expanded(store, session, params.get("expand"))
        raise _unrecognized("POST", path)

    def _get(self, fake: FakeStripe, path: str, params: dict) -> dict:
        store = fake.store
        with store.lock:
            if path == "/v1/checkout/sessions":
                sessions = list(reversed(store.sessions.values()))
                for field in ("status", "payment_intent", "client_reference_id"):
                    if field in params:
                        sessions = [s for s in sessions if s.get(field) == params[field]]
                sessions = _created(sessions, params)
                return _page(sessions, params, path, "checkout.session")
            if match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)", path):
                return self._expanded(store, store.session(match[1]), params.get("expand"))
            if match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)/line_items", path):
                store.session(match[1])
                return _page(store.line_items[match[1]], params, path, "item")
            if path == "/v1/events":
                return _page(_filter_events(list(reversed(store.events)), params), params, path, "event")
            if match := re.fullmatch(r"/v1/events/([^/]+)", path):
                return snapshot(store.event(match[1]))
        raise _unrecognized("GET", path)

    def _expanded(self, store: Store, session: dict, expand) -> dict:
        session = snapshot(session)
        expand = expand if isinstance(expand, list) else [expand] if isinstance(expand, str) else []
        for field in expand:
            if field == "line_items":
                lines = store.line_items[session["id"]]
                session["line_items"] = {
                    "object": "list",
                    "data": snapshot(lines),
                    "has_more": False,
                    "url": f"/v1/checkout/sessions/{session['id']}/line_items",
                }
            elif field not in ("payment_intent",):  # payment intents are not served; left as ids
                raise StripeError(400, f"This property cannot be expanded ({field}).", param="expand")
        return session

    # --- the hosted page ---

    def _page(self, fake: FakeStripe, method: str, session_id: str, body: bytes) -> None:
        store = fake.store
        html = "text/html; charset=utf-8"
        store.expire_due()
        with store.lock:
            session = store.sessions.get(session_id)
            lines = snapshot(store.line_items.get(session_id, []))
            session = snapshot(session) if session else None
        if session is None:
            self._send(404, page.message_page("Not found", "There is no such Checkout Session."), html)
            return
        if session["status"] != "open":
            title, status = (
                ("Session expired", 410) if session["status"] == "expired" else ("Already paid", 409)
            )
            message = (
                "This Checkout Session has expired. Ask the seller for a new one."
                if status == 410
                else "This Checkout Session is complete; it cannot be paid again."
            )
            self._send(status, page.message_page(title, message), html)
            return
        if method == "GET":
            self._send(200, page.checkout_page(session, lines), html)
            return
        if method != "POST":
            self._send(405, b"Method not allowed\n", "text/plain", {"Allow": "GET, POST"})
            return
        action = dict(parse_pairs(body.decode("utf-8", "replace"))).get("action", "")
        try:
            if action == "cancel":
                self._redirect(session["cancel_url"] or f"/pay/{session_id}")
                return
            if action == "pay":
                session = fake.pay(session_id)
            elif action == "fail":
                session = fake.fail(session_id)
            elif action == "pay_later":
                session = fake.pay_later(session_id)
            else:
                self._send(400, page.message_page("Bad request", f"Unknown action {action!r}."), html)
                return
        except StripeError as exc:  # paid or expired by another request meanwhile
            self._send(409, page.message_page("Cannot pay", exc.message), html)
            return
        if session["success_url"]:
            self._redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
        else:
            self._send(200, page.message_page("Thank you", "Your payment was received."), html)

    # --- test controls (no key: bound to loopback, for tests and the demo) ---

    def _control(self, fake: FakeStripe, method: str, path: str, body: bytes) -> None:
        try:
            if path == "/_fake/switches":
                if method == "POST":
                    try:
                        values = json.loads(body or b"{}")
                        if not isinstance(values, dict):
                            raise ValueError("send a JSON object")
                        self._json(200, fake.set_switches(**values))
                    except ValueError as exc:
                        self._json(400, {"error": {"type": "invalid_request_error", "message": str(exc)}})
                else:
                    self._json(200, fake.get_switches())
                return
            if path == "/_fake/deliveries" and method == "GET":
                self._json(200, {"object": "list", "data": fake.deliveries})
                return
            match = re.fullmatch(r"/_fake/sessions/([^/]+)/(pay|fail|pay_later|expire)", path)
            if match and method == "POST":
                self._json(200, getattr(fake, match[2])(match[1]))
                return
            raise _unrecognized(method, path)
        except StripeError as exc:
            self._json(exc.status, exc.body())


def _unrecognized(method: str, path: str) -> StripeError:
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )


def _mask(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    prefix = key[: key.index("_", 3) + 1] if key.count("_") >= 2 else ""
    return prefix + "*" * (len(key) - len(prefix) - 4) + key[-4:]


def _page(items: list[dict], params: dict, url: str, kind: str) -> dict:
    """A Stripe list: `limit` (1..100, default 10), `starting_after` / `ending_before` an id in it."""
    try:
        limit = int(params.get("limit", 10))
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {params.get('limit')}", param="limit") from None
    if not 1 <= limit <= 100:
        raise StripeError(400, "This value must be between 1 and 100 (inclusive).", param="limit")
    ids = [item["id"] for item in items]
    if "starting_after" in params:
        cursor = params["starting_after"]
        if cursor not in ids:
            raise StripeError(
                400, f"No such {kind}: '{cursor}'", param="starting_after", code="resource_missing"
            )
        rest = items[ids.index(cursor) + 1 :]
        data, has_more = rest[:limit], len(rest) > limit
    elif "ending_before" in params:
        cursor = params["ending_before"]
        if cursor not in ids:
            raise StripeError(
                400, f"No such {kind}: '{cursor}'", param="ending_before", code="resource_missing"
            )
        before = items[: ids.index(cursor)]
        data, has_more = before[-limit:], len(before) > limit
    else:
        data, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": snapshot(data), "has_more": has_more, "url": url}


def _created(items: list[dict], params: dict) -> list[dict]:
    created = params.get("created")
    if created is None:
        return items
    if isinstance(created, str):
        created = {"eq": created}
    if not isinstance(created, dict):
        raise StripeError(400, "Invalid created filter", param="created")
    tests = {"eq": int.__eq__, "gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
    for op, value in created.items():
        if op not in tests:
            raise StripeError(400, f"Received unknown parameter: created[{op}]", param=f"created[{op}]")
        try:
            bound = int(value)
        except (TypeError, ValueError):
            raise StripeError(400, f"Invalid integer: {value}", param=f"created[{op}]") from None
        items = [item for item in items if tests[op](item["created"], bound)]
    return items


def _filter_events(events: list[dict], params: dict) -> list[dict]:
    for key in params:
        if key not in (
            "limit",
            "starting_after",
            "ending_before",
            "type",
            "types",
            "created",
            "delivery_success",
        ):
            raise StripeError(400, f"Received unknown parameter: {key}", param=key)
    if "type" in params and "types" in params:
        raise StripeError(400, "You may not specify both `type` and `types`.", param="types")
    wanted = params.get("types") or ([params["type"]] if "type" in params else None)
    if wanted is not None:
        if isinstance(wanted, str):
            wanted = [wanted]

        def fits(type_: str) -> bool:  # "checkout.session.*" matches every checkout.session event
            return any(type_ == w or (w.endswith("*") and type_.startswith(w[:-1])) for w in wanted)

        events = [event for event in events if fits(event["type"])]
    if "delivery_success" in params:
        success = str(params["delivery_success"]).lower() == "true"
        events = [event for event in events if (event["pending_webhooks"] == 0) == success]
    return _created(events, params)


__all__ = ["FakeStripe", "FakeStripeError"]
