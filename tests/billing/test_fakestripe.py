"""The fake Stripe (billing/fakestripe) against the real stripe SDK: what the portal's billing relies on.

No database: the fake is stdlib only and these tests talk to it over loopback HTTP.
"""

from __future__ import annotations

import base64
import json
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe

from billing.fakestripe import FakeStripe, FakeStripeError

API_KEY = "sk_test_fakestripe_tests_0123456789"
SECRET = "whsec_fakestripe_tests"
SUCCESS = "http://127.0.0.1:9/billing/success/?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "http://127.0.0.1:9/billing/cancel/"
ROOT = Path(__file__).resolve().parents[2]
PRICE_A = {"currency": "usd", "unit_amount": 100, "product_data": {"name": "A"}}
LINE_A = {"price_data": PRICE_A, "quantity": 1}


class Receiver:
    """A webhook endpoint: records each POST (headers, body); answers with `statuses` in turn, then 200."""

    def __init__(self) -> None:
        self.requests: queue.Queue[tuple[dict, bytes, float]] = queue.Queue()
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.put((dict(self.headers), body, time.monotonic()))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # the success and cancel pages a browser is sent to
                body = b"<h1>back at the portal</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/billing/webhook/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()

    def take(self, n: int, timeout: float = 5.0) -> list[tuple[dict, bytes, float]]:
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{len(got)} of {n} webhooks arrived in {timeout} s")
            try:
                got.append(self.requests.get(timeout=remaining))
            except queue.Empty:
                continue
        return got

    def events(self, n: int, timeout: float = 5.0) -> list[stripe.Event]:
        return [
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
            for headers, body, _ in self.take(n, timeout)
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def make_fake(receiver):
    started = []

    def make(**options) -> FakeStripe:
        options = {
            "api_key": API_KEY,
            "webhook_url": receiver.url,
            "webhook_secret": SECRET,
            "retry_backoff": 0.05,
            "webhook_timeout": 3,
            **options,
        }
        fake = FakeStripe(**options).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def fake(make_fake):
    return make_fake()


@pytest.fixture
def client(fake):
    return stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})


def session_params(**extra) -> dict:
    return {
        "mode": "payment",
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "client_reference_id": "order-42",
        "customer_email": "installer@example.com",
        "metadata": {"order_id": "42", "plan": "premium"},
        "payment_intent_data": {"metadata": {"order_id": "42"}},
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1234,
                    "product_data": {"name": "Premium plan, 12 months"},
                },
                "quantity": 2,
            },
            {
                "price_data": {"currency": "usd", "unit_amount": 500, "product_data": {"name": "Setup fee"}},
                "quantity": 1,
            },
        ],
        **extra,
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def press(session_url: str, action: str) -> tuple[int, str, str]:
    """Submit the hosted page's form: (status, Location, body)."""
    data = urllib.parse.urlencode({"action": action}).encode()
    request = urllib.request.Request(session_url, data=data, method="POST")
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=5) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", ""), exc.read().decode()


def get(url: str, headers: dict | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=5
        ) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


# --- the API ---


def test_create_retrieve_and_line_items(fake, client):
    before = int(time.time())
    session = client.v1.checkout.sessions.create(params=session_params())
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.amount_subtotal, session.amount_total, session.currency) == (2968, 2968, "usd")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.url == f"{fake.url}/pay/{session.id}"
    assert session.metadata.to_dict() == {"order_id": "42", "plan": "premium"}
    assert session.client_reference_id == "order-42"
    assert session.customer_email == "installer@example.com"
    assert session.success_url == SUCCESS and session.cancel_url == CANCEL
    assert session.livemode is False and session.payment_intent is None
    assert before + 86400 <= session.expires_at <= int(time.time()) + 86400
    assert before <= session.created <= int(time.time())

    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert again.id == session.id
    assert [line.description for line in again.line_items.data] == ["Premium plan, 12 months", "Setup fee"]

    first = client.v1.checkout.sessions.line_items.list(session.id, params={"limit": 1})
    assert first.object == "list" and first.has_more is True
    assert first.url == f"/v1/checkout/sessions/{session.id}/line_items"
    line = first.data[0]
    assert line.id.startswith("li_") and line.object == "item"
    assert (line.quantity, line.amount_subtotal, line.amount_total, line.currency) == (2, 2468, 2468, "usd")
    assert line.price.object == "price" and line.price.unit_amount == 1234 and line.price.currency == "usd"
    assert line.price.product.startswith("prod_")
    rest = client.v1.checkout.sessions.line_items.list(session.id, params={"starting_after": line.id})
    assert [item.description for item in rest.data] == ["Setup fee"] and rest.has_more is False
    # Creating a session emits no event, as on Stripe.
    assert client.v1.events.list().data == []


def test_idempotency_key_replays_and_refuses_other_params(fake, client):
    first = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "order-42-a"}
    )
    again = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "order-42-a"}
    )
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(fake.store.sessions) == 1

    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="order-43"), options={"idempotency_key": "order-42-a"}
        )
    assert info.value.http_status == 400
    assert len(fake.store.sessions) == 1

    fake.pay(first.id)
    assert [event.type for event in client.v1.events.list().data] == ["checkout.session.completed"]
    # The SDK gives every POST its own key, so plain retries of create still make new sessions.
    assert client.v1.checkout.sessions.create(params=session_params()).id != first.id


def test_one_key_sent_concurrently_makes_one_session(fake, client):
    ids, errors = [], []

    def create():
        try:
            ids.append(
                client.v1.checkout.sessions.create(
                    params=session_params(), options={"idempotency_key": "k"}
                ).id
            )
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == [] and len(ids) == 8 and len(set(ids)) == 1 and len(fake.store.sessions) == 1


def test_raw_form_post_as_curl_sends_it(fake):
    """The wire format itself: basic auth with the key as user, `key[]` arrays, nested brackets."""
    form = [
        ("mode", "payment"),
        ("success_url", SUCCESS),
        ("line_items[0][price_data][currency]", "USD"),
        ("line_items[0][price_data][unit_amount]", "1234"),
        ("line_items[0][price_data][product_data][name]", "Premium"),
        ("line_items[0][quantity]", "2"),
        ("metadata[order_id]", "7"),
        ("expand[]", "line_items"),
    ]
    token = base64.b64encode(f"{API_KEY}:".encode()).decode()
    request = urllib.request.Request(
        f"{fake.url}/v1/checkout/sessions",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Request-Id"].startswith("req_")
        session = json.loads(response.read())
    assert session["currency"] == "usd" and session["amount_total"] == 2468
    assert session["metadata"] == {"order_id": "7"}
    assert session["line_items"]["data"][0]["quantity"] == 2
    status, body = get(
        f"{fake.url}/v1/checkout/sessions?status=open&limit=5", {"Authorization": f"Bearer {API_KEY}"}
    )
    assert status == 200 and [s["id"] for s in json.loads(body)["data"]] == [session["id"]]
    status, body = get(f"{fake.url}/v1/nothing/here", {"Authorization": f"Bearer {API_KEY}"})
    assert status == 404 and "Unrecognized request URL" in json.loads(body)["error"]["message"]


def test_public_url_is_the_pages_base(make_fake):
    fake = make_fake(public_url="http://stripe.demo.test:12111/")
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    session = client.v1.checkout.sessions.create(params=session_params())
    assert session.url == f"http://stripe.demo.test:12111/pay/{session.id}"
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "open"}).data] == [session.id]


def test_wrong_or_missing_key_is_refused(fake):
    bad = stripe.StripeClient("sk_test_wrong_key_1234", base_addresses={"api": fake.url})
    with pytest.raises(stripe.AuthenticationError) as info:
        bad.v1.checkout.sessions.create(params=session_params())
    assert info.value.http_status == 401
    assert "Invalid API Key provided" in info.value.user_message and "1234" in info.value.user_message
    assert "wrong" not in info.value.user_message  # masked, as Stripe does
    status, body = get(f"{fake.url}/v1/events")
    assert status == 401 and json.loads(body)["error"]["type"] == "invalid_request_error"
    assert fake.store.sessions == {}


def test_unknown_ids_are_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (info.value.http_status, info.value.code, info.value.param) == (404, "resource_missing", "session")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.line_items.list("cs_test_nope")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire("cs_test_nope")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.events.retrieve("evt_nope")
    assert info.value.http_status == 404 and info.value.code == "resource_missing"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"mode": "subscription"}, "mode"),
        ({"mode": None}, "mode"),
        ({"expires_at": int(time.time()) + 600}, "expires_at"),
        ({"expires_at": int(time.time()) + 2 * 86400}, "expires_at"),
        ({"line_items": None}, "line_items"),
        ({"colour": "blue"}, "colour"),
        ({"line_items": [{"price_data": PRICE_A}]}, "line_items[0][quantity]"),
        ({"line_items": [{"price_data": {**PRICE_A, "unit_amount": "x"}, "quantity": 1}]},
         "line_items[0][price_data][unit_amount]"),
        ({"line_items": [{"price_data": {**PRICE_A, "currency": "eur"}, "quantity": 1}, LINE_A]},
         "line_items[1][price_data][currency]"),
        ({"line_items": [{"price_data": {**PRICE_A, "unit_amount": 10}, "quantity": 1}]}, "line_items"),
        ({"line_items": [{"price": "price_123", "quantity": 1}]}, "line_items[0][price]"),
    ],
)  # fmt: skip
def test_bad_params_are_400_with_param(client, change, param):
    params = session_params()
    for key, value in change.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=params)
    assert info.value.http_status in (400, 404) and info.value.param == param


def test_expires_at_within_bounds_is_kept(client):
    expires_at = int(time.time()) + 3600
    assert (
        client.v1.checkout.sessions.create(params=session_params(expires_at=expires_at)).expires_at
        == expires_at
    )


def test_expire(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=session_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    (event,) = receiver.events(1)
    assert event.type == "checkout.session.expired" and event.data.object.id == session.id
    assert event.request.id.startswith("req_")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.expire(session.id)
    assert "can be expired" in info.value.user_message
    status, body = get(session.url)
    assert status == 410 and "expired" in body
    assert press(session.url, "pay")[0] == 410


def test_sessions_expire_by_themselves(make_fake, receiver):
    fake = make_fake(session_timeout=1, sweep_interval=0.1)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    session = client.v1.checkout.sessions.create(params=session_params())
    (event,) = receiver.events(1, timeout=5)
    assert event.type == "checkout.session.expired" and event.request.id is None
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_events_list_and_retrieve(fake, client):
    sessions = [client.v1.checkout.sessions.create(params=session_params()) for _ in range(3)]
    start = int(time.time())
    for session in sessions:
        fake.pay(session.id)
    client.v1.checkout.sessions.expire(client.v1.checkout.sessions.create(params=session_params()).id)
    fake.wait_idle()  # else pending_webhooks may change between the list and the retrieve

    listed = client.v1.events.list()
    assert [event.type for event in listed.data] == ["checkout.session.expired"] + [
        "checkout.session.completed"
    ] * 3  # newest first
    assert [event.data.object.id for event in listed.data[1:]] == [s.id for s in reversed(sessions)]
    event = listed.data[1]
    assert event.object == "event" and event.id.startswith("evt_") and event.livemode is False
    assert event.api_version and event.created >= start
    assert event.data.object.status == "complete" and event.data.object.payment_status == "paid"
    assert event.data.object.payment_intent.startswith("pi_")
    assert client.v1.events.retrieve(event.id).to_dict() == event.to_dict()

    completed = client.v1.events.list(params={"type": "checkout.session.completed", "limit": 2})
    assert len(completed.data) == 2 and completed.has_more is True
    more = client.v1.events.list(
        params={"type": "checkout.session.completed", "starting_after": completed.data[-1].id}
    )
    assert len(more.data) == 1 and more.has_more is False
    assert len(client.v1.events.list(params={"type": "checkout.session.*"}).data) == 4
    assert len(client.v1.events.list(params={"created": {"gte": start}}).data) == 4
    assert client.v1.events.list(params={"created": {"gt": int(time.time()) + 10}}).data == []
    # The data of an event is the session as it was then.
    assert fake.events[0]["data"]["object"]["status"] == "complete"


# --- the hosted page and webhooks ---


def test_pay_on_hosted_page_redirects_and_sends_a_signed_webhook(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=session_params())
    status, page = get(session.url)
    assert status == 200
    assert "Premium plan, 12 months" in page and "Setup fee" in page and "29.68 USD" in page
    assert all(f"value='{action}'" in page for action in ("pay", "fail", "cancel"))

    status, location, _ = press(session.url, "pay")
    assert status == 303
    assert location == SUCCESS.replace("{CHECKOUT_SESSION_ID}", session.id)

    ((headers, body, _),) = receiver.take(1)
    assert headers["Content-Type"].startswith("application/json")
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
    assert event.type == "checkout.session.completed"
    paid = event.data.object
    assert (paid.id, paid.status, paid.payment_status) == (session.id, "complete", "paid")
    assert paid.metadata.order_id == "42" and paid.client_reference_id == "order-42"
    assert paid.payment_intent.startswith("pi_") and paid.amount_total == 2968
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_wrong")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"2968", b"2969"), headers["Stripe-Signature"], SECRET)

    retrieved = client.v1.checkout.sessions.retrieve(session.id)
    assert (retrieved.status, retrieved.payment_status) == ("complete", "paid")
    fake.wait_for_deliveries(1, ok=True)
    assert client.v1.events.retrieve(event.id).pending_webhooks == 0
    # A completed session cannot be paid again.
    assert get(session.url)[0] == 409
    assert press(session.url, "pay")[0] == 409


@pytest.mark.e2e
def test_a_browser_pays_on_the_hosted_page(fake, client, receiver, page):
    base = receiver.url.rsplit("/billing/", 1)[0]
    session = client.v1.checkout.sessions.create(
        params=session_params(
            success_url=base + "/ok?session_id={CHECKOUT_SESSION_ID}", cancel_url=base + "/no"
        )
    )
    page.goto(session.url)
    assert page.locator("#total").inner_text() == "29.68 USD"
    assert page.locator("tr.line-item").count() == 2
    page.click("#cancel")
    page.wait_for_url(base + "/no", timeout=10_000)
    page.goto(session.url)
    page.click("#pay")
    page.wait_for_url(f"{base}/ok?session_id={session.id}", timeout=10_000)
    (event,) = receiver.events(1)
    assert event.type == "checkout.session.completed" and event.data.object.payment_status == "paid"


def test_fail_completes_unpaid_then_async_payment_failed(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=session_params())
    status, location, _ = press(session.url, "fail")
    assert status == 303 and location == SUCCESS.replace("{CHECKOUT_SESSION_ID}", session.id)
    completed, failed = receiver.events(2)
    assert completed.type == "checkout.session.completed" and completed.data.object.payment_status == "unpaid"
    assert failed.type == "checkout.session.async_payment_failed"
    retrieved = client.v1.checkout.sessions.retrieve(session.id)
    assert (retrieved.status, retrieved.payment_status) == ("complete", "unpaid")


def test_pay_later_succeeds_after_a_delay(make_fake, receiver):
    fake = make_fake(async_delay=0.3)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    session = client.v1.checkout.sessions.create(params=session_params())
    assert press(session.url, "pay_later")[0] == 303
    completed, succeeded = receiver.events(2)
    assert completed.data.object.payment_status == "unpaid"
    assert succeeded.type == "checkout.session.async_payment_succeeded"
    assert succeeded.data.object.payment_status == "paid"


def test_cancel_leaves_the_session_open(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=session_params())
    assert press(session.url, "cancel")[:2] == (303, CANCEL)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    fake.wait_idle()
    assert receiver.requests.empty() and fake.events == []


def test_failed_delivery_is_retried(fake, client, receiver):
    receiver.statuses = [500, 503]
    session = client.v1.checkout.sessions.create(params=session_params())
    fake.pay(session.id)
    deliveries = fake.wait_for_deliveries(1, ok=True)
    assert len(receiver.take(3)) == 3
    assert [(d["attempt"], d["status"]) for d in fake.deliveries] == [(1, 500), (2, 503), (3, 200)]
    assert client.v1.events.retrieve(deliveries[0]["event_id"]).pending_webhooks == 0


def test_unreachable_endpoint_gives_up_and_event_stays_listed(make_fake):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    fake = make_fake(webhook_url=closed, retries=2)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    fake.pay(client.v1.checkout.sessions.create(params=session_params()).id)
    fake.wait_idle()
    attempts = [(d["attempt"], d["status"], d["ok"]) for d in fake.deliveries]
    assert attempts == [(1, None, False), (2, None, False), (3, None, False)]
    pending = client.v1.events.list(params={"delivery_success": False}).data
    assert [event.type for event in pending] == ["checkout.session.completed"]


# --- switches ---


def test_duplicate_delivers_each_event_n_times(make_fake, receiver):
    fake = make_fake(duplicate=3)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    fake.pay(client.v1.checkout.sessions.create(params=session_params()).id)
    events = receiver.events(3)
    assert len({event.id for event in events}) == 1
    fake.wait_idle()
    assert receiver.requests.empty()
    assert [d["copy"] for d in fake.deliveries] == [1, 2, 3]


def test_concurrent_duplicates(make_fake, receiver):
    fake = make_fake(duplicate=2, concurrent=True)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    fake.pay(client.v1.checkout.sessions.create(params=session_params()).id)
    first, second = receiver.take(2)
    assert first[1] == second[1]


def test_drop_skips_a_delivery_but_the_event_is_listed(make_fake, receiver):
    fake = make_fake(drop=1)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    dropped_session = client.v1.checkout.sessions.create(params=session_params())
    fake.pay(dropped_session.id)
    (dropped,) = fake.wait_for_deliveries(1, dropped=True)
    fake.wait_idle()
    assert receiver.requests.empty()

    listed = client.v1.events.list(params={"type": "checkout.session.completed"}).data
    assert [event.id for event in listed] == [dropped["event_id"]]
    assert listed[0].data.object.id == dropped_session.id and listed[0].pending_webhooks == 1
    assert [e.id for e in client.v1.events.list(params={"delivery_success": False}).data] == [
        dropped["event_id"]
    ]

    # The switch counted down: the next event arrives.
    delivered_session = client.v1.checkout.sessions.create(params=session_params())
    fake.pay(delivered_session.id)
    (event,) = receiver.events(1)
    assert event.data.object.id == delivered_session.id


def test_drop_percent(make_fake, receiver):
    fake = make_fake(drop_percent=100)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    for _ in range(3):
        fake.pay(client.v1.checkout.sessions.create(params=session_params()).id)
    fake.wait_idle()
    assert len(fake.wait_for_deliveries(3, dropped=True)) == 3 and receiver.requests.empty()


def test_reorder_delivers_a_batch_newest_first(make_fake, receiver):
    fake = make_fake(reorder=True)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    sessions = [client.v1.checkout.sessions.create(params=session_params()) for _ in range(2)]
    fake.fail(sessions[0].id)
    fake.pay(sessions[1].id)
    events = receiver.events(3)
    made = [event["id"] for event in fake.events]
    assert [event.id for event in events] == list(reversed(made))
    assert events[-1].type == "checkout.session.completed" and events[-1].data.object.id == sessions[0].id


def test_delay(make_fake, receiver):
    fake = make_fake(delay=0.5)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    session = client.v1.checkout.sessions.create(params=session_params())
    paid_at = time.monotonic()
    fake.pay(session.id)
    ((_, _, arrived_at),) = receiver.take(1)
    assert arrived_at - paid_at >= 0.45


def test_http_controls(fake, client, receiver):
    def post(path: str, payload: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            fake.url + path, data=json.dumps(payload or {}).encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, switches = post("/_fake/switches", {"duplicate": 2})
    assert status == 200 and switches["duplicate"] == 2
    assert post("/_fake/switches", {"reorder": True, "nonsense": 1})[0] == 400
    assert post("/_fake/switches", {"drop": -1})[0] == 400
    assert fake.get_switches()["reorder"] is False  # a bad request changes nothing
    session = client.v1.checkout.sessions.create(params=session_params())
    status, paid = post(f"/_fake/sessions/{session.id}/pay")
    assert status == 200 and paid["payment_status"] == "paid"
    assert post(f"/_fake/sessions/{session.id}/expire")[0] == 400
    assert post("/_fake/sessions/cs_test_nope/pay")[0] == 404
    receiver.take(2)
    fake.wait_for_deliveries(2, ok=True)
    status, body = get(fake.url + "/_fake/deliveries")
    assert status == 200 and [d["copy"] for d in json.loads(body)["data"]] == [1, 2]
    fake.set_switches(duplicate=1)
    assert fake.get_switches()["duplicate"] == 1


def test_wait_for_deliveries_times_out(fake):
    with pytest.raises(FakeStripeError):
        fake.wait_for_deliveries(1, timeout=0.2)


# --- the command line ---


def test_cli_starts_and_answers(receiver):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "billing.fakestripe",
        "--host",
        "127.0.0.1",
        f"--port={port}",
        f"--api-key={API_KEY}",
        "--webhook-url",
        receiver.url,
        f"--webhook-secret={SECRET}",
        "--duplicate=2",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _readline(process, timeout=15)
        assert f"http://127.0.0.1:{port}" in line
        client = stripe.StripeClient(API_KEY, base_addresses={"api": f"http://127.0.0.1:{port}"})
        session = client.v1.checkout.sessions.create(params=session_params())
        assert session.url == f"http://127.0.0.1:{port}/pay/{session.id}"
        assert press(session.url, "pay")[0] == 303
        assert {event.id for event in receiver.events(2)} == {client.v1.events.list().data[0].id}
    finally:
        process.terminate()
        try:
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
            process.stdout.close()
            process.stderr.close()


def _readline(process: subprocess.Popen, timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"the fake printed nothing in {timeout} s") from None


def test_imports_no_django_and_no_project_app():
    """It runs standalone (python -m billing.fakestripe), like devices/simulator."""
    apps = [
        "django",
        "smartplus",
        "accounts",
        "communities",
        "residents",
        "maclib",
        "devices",
        "firmware",
        "demo",
    ]
    code = (
        "import sys, billing.fakestripe, billing.fakestripe.__main__\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {apps!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "[]"
