"""The fake Rent Manager HTTP server (stdlib ThreadingHTTPServer), state in memory.

Switches (POST JSON to `/_fake/config`, or set `server.config` in process):
  delay            seconds every API reply waits (a slow or timing-out server)
  fail             {"resource": "Units", "page": 3, "status": 503, "times": 99}: that page
                   answers the status `times` times (a retried 5xx that never recovers)
  expire_after     the tokens stop working after this many more API requests (mid-run expiry)
`POST /_fake/expire` expires every token now; `POST /_fake/reset` clears the switches;
`GET /_fake/stats` counts requests; `POST /_fake/seed` replaces the data.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RESOURCES = {
    "Properties": "PropertyID",
    "Units": "UnitID",
    "Tenants": "TenantID",
    "Leases": "LeaseID",
    "Contacts": "ContactID",
}
# What each resource may embed, and how (inline key kept only when asked for, or joined).
INLINE_EMBEDS = {"Properties": {"Addresses"}, "Units": {"Floor"}, "Contacts": {"PhoneNumbers"}}
JOINED_EMBEDS = {"Tenants": {"Leases": ("Leases", "TenantID"), "Contacts": ("Contacts", "ParentID")}}
MAX_PAGE_SIZE = 1000
FILTER = re.compile(r"^(\w+),(eq|ne|gt|lt|ge|le|in|nin),(.*)$", re.I)


def _error(status: int, user: str, developer: str = "") -> tuple[int, dict]:
    return status, {
        "DeveloperMessage": developer or user,
        "UserMessage": user,
        "Exception": None,
        "InnerException": None,
        "Details": [],
    }


def _coerce(value: str, sample):
    if isinstance(sample, bool):
        return value.lower() == "true"
    if isinstance(sample, int):
        try:
            return int(value)
        except ValueError:
            return value
    if value.lower() == "null":
        return None
    return value


def _matches(item: dict, field: str, op: str, raw: str) -> bool:
    actual = item.get(field)
    op = op.lower()
    if op in ("in", "nin"):
        values = {_coerce(v.strip(), actual) for v in raw.strip("()").split(",") if v.strip()}
        return (actual in values) == (op == "in")
    value = _coerce(raw, actual)
    if op == "eq":
        return actual == value
    if op == "ne":
        return actual != value
    if actual is None or value is None:
        return False
    return {"gt": actual > value, "lt": actual < value, "ge": actual >= value, "le": actual <= value}[op]


class FakeRentManager:
    def __init__(self, data: dict, *, host: str = "127.0.0.1", port: int = 0, token_ttl: float = 300.0):
        self.lock = threading.RLock()
        self.data = copy.deepcopy(data)
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {}
        self.config: dict = {}
        self.requests: dict[str, int] = {}
        self._fail_left: dict[tuple, int] = {}
        self._index()
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self.httpd = _Server((host, port), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.1)

    def start(self) -> FakeRentManager:
        self._thread = threading.Thread(target=self.serve_forever, name="fake-rentmanager", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- state -------------------------------------------------------------------------------------

    def _index(self) -> None:
        for resource in RESOURCES:
            self.data.setdefault(resource, [])
        self.data.setdefault("users", [])
        self._by_parent = {}
        for name, (source, key) in JOINED_EMBEDS["Tenants"].items():
            groups: dict = {}
            for row in self.data[source]:
                groups.setdefault(row.get(key), []).append(row)
            self._by_parent[name] = groups

    def reseed(self, data: dict) -> None:
        with self.lock:
            self.data = copy.deepcopy(data)
            self._index()

    def mutate(self, fn) -> None:
        """Change the data in place (`fn(data)`), then re-index: the tests' edits in Rent Manager."""
        with self.lock:
            fn(self.data)
            self._index()

    def reset(self) -> None:
        with self.lock:
            self.config = {}
            self._fail_left = {}
            self.requests = {}

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # --- the API -----------------------------------------------------------------------------------

    def authorize(self, body) -> tuple[int, object]:
        if not isinstance(body, dict):
            return _error(400, "The request body is not valid JSON.")
        for user in self.data["users"]:
            if user["Username"] == body.get("Username") and user["Password"] == body.get("Password"):
                wanted = body.get("LocationID")
                if wanted not in (None, 0) and int(wanted) != int(user.get("LocationID") or 1):
                    return _error(401, "The user does not have access to this location.")
                token = secrets.token_hex(16)
                with self.lock:
                    self.tokens[token] = time.monotonic() + self.token_ttl
                return 200, token
        return _error(401, "Invalid username or password.")

    def _token_ok(self, token: str | None) -> bool:
        with self.lock:
            expiry = self.tokens.get(token or "")
            if expiry is None or expiry < time.monotonic():
                self.tokens.pop(token or "", None)
                return False
            left = self.config.get("expire_after")
            if left is not None:
                if left <= 0:
                    self.config.pop("expire_after")
                    self.tokens.clear()
                    return False
                self.config["expire_after"] = left - 1
            return True

    def list(self, resource: str, query: dict, token: str | None) -> tuple[int, object, dict]:
        with self.lock:
            self.requests[resource] = self.requests.get(resource, 0) + 1
            delay = self.config.get("delay", 0)
        if delay:
            time.sleep(delay)
        if not self._token_ok(token):
            status, body = _error(401, "The API token is invalid or has expired.")
            return status, body, {}
        try:
            size = int(query.get("pagesize", [MAX_PAGE_SIZE])[0])
            number = int(query.get("pagenumber", [1])[0])
        except ValueError:
            status, body = _error(400, "pagesize and pagenumber must be numbers.")
            return status, body, {}
        size = max(1, min(size, MAX_PAGE_SIZE))
        number = max(1, number)
        fail = self.config.get("fail")
        if fail and fail.get("resource") == resource and int(fail.get("page", 1)) == number:
            key = (resource, number)
            with self.lock:
                left = self._fail_left.setdefault(key, int(fail.get("times", 1)))
                if left > 0:
                    self._fail_left[key] = left - 1
                    status, body = _error(int(fail.get("status", 500)), "An unexpected error occurred.")
                    return status, body, {}
        filters = []
        for raw in ";".join(query.get("filters", [])).split(";"):
            if not raw.strip():
                continue
            match = FILTER.match(raw.strip())
            if not match:
                status, body = _error(400, f"The filter '{raw}' is not valid.")
                return status, body, {}
            filters.append(match.groups())
        embeds = {e.strip() for e in ",".join(query.get("embeds", [])).split(",") if e.strip()}
        allowed = INLINE_EMBEDS.get(resource, set()) | set(JOINED_EMBEDS.get(resource, {}))
        unknown = embeds - allowed
        if unknown:
            status, body = _error(400, f"'{sorted(unknown)[0]}' is not a valid embed for {resource}.")
            return status, body, {}
        with self.lock:
            rows = [r for r in self.data[resource] if all(_matches(r, *f) for f in filters)]
            total = len(rows)
            chunk = rows[(number - 1) * size : number * size]
            out = [self._shape(resource, row, embeds) for row in chunk]
        headers = {"x-total-results": str(total)}
        if not out:
            return 204, None, headers
        more = number * size < total
        return (206 if more else 200), out, headers

    def _shape(self, resource: str, row: dict, embeds: set) -> dict:
        hidden = INLINE_EMBEDS.get(resource, set()) - embeds
        item = {k: copy.deepcopy(v) for k, v in row.items() if k not in hidden}
        for name in embeds & set(JOINED_EMBEDS.get(resource, {})):
            children = self._by_parent[name].get(row[RESOURCES[resource]], [])
            item[name] = [
                {k: copy.deepcopy(v) for k, v in c.items() if name != "Contacts" or k != "PhoneNumbers"}
                | ({"PhoneNumbers": copy.deepcopy(c.get("PhoneNumbers", []))} if name == "Contacts" else {})
                for c in children
            ]
        return item


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A client that gave up waiting (a time-out test) closed its end: nothing to report.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeRentManager
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _reply(self, status: int, body=None, headers: dict | None = None) -> None:
        payload = b"" if body is None or status == 204 else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def do_POST(self) -> None:
        fake = self.server_fake
        path = urlsplit(self.path).path.rstrip("/")
        body = self._body()
        if path.lower() == "/authentication/authorizeuser":
            with fake.lock:
                delay = fake.config.get("delay", 0)
            if delay:
                time.sleep(delay)
            self._reply(*fake.authorize(body))
        elif path == "/_fake/config":
            with fake.lock:
                fake.config.update(body or {})
                fake._fail_left = {}
            self._reply(200, fake.config)
        elif path == "/_fake/reset":
            fake.reset()
            self._reply(200, {})
        elif path == "/_fake/expire":
            fake.expire_tokens()
            self._reply(200, {})
        elif path == "/_fake/seed":
            fake.reseed(body or {})
            self._reply(200, {})
        else:
            self._reply(*_error(404, "Not found."))

    def do_GET(self) -> None:
        fake = self.server_fake
        parts = urlsplit(self.path)
        path = parts.path.strip("/")
        if path == "_fake/stats":
            with fake.lock:
                self._reply(200, {"requests": fake.requests, "now": datetime.datetime.now().isoformat()})
            return
        resource = next((r for r in RESOURCES if r.lower() == path.lower()), None)
        if resource is None:
            self._reply(*_error(404, f"The resource '{path}' does not exist."))
            return
        status, body, headers = fake.list(
            resource, parse_qs(parts.query), self.headers.get("X-RM12Api-ApiToken")
        )
        self._reply(status, body, headers)


def serve(data: dict, port: int = 0) -> FakeRentManager:
    """A started fake on loopback (tests: `server.url`, then `server.stop()`)."""
    return FakeRentManager(data, port=port).start()
