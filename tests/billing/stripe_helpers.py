"""Test doubles for Stripe at the SDK's service boundary (create/retrieve/expire a Checkout
Session), and webhook payloads signed with Stripe's real scheme: `t=<ts>,v1=<hex hmac_sha256(
secret, f"{t}.{payload}")>`, which stripe.Webhook.construct_event verifies."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time

import stripe

WEBHOOK_SECRET = "whsec_test_secret"
_ids = itertools.count(1)


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(event_type: str, session: dict, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_{next(_ids):06d}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": session},
        }
    )


class StubSessions:
    """In memory, as the SDK's CheckoutSessionService: what the code calls, nothing more."""

    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.down = False  # every call fails as a refused connection does

    def _call(self, name: str, arg) -> None:
        self.calls.append((name, arg))
        if self.down:
            raise stripe.APIConnectionError("Connection refused")

    def _obj(self, sid: str):
        return stripe.StripeObject.construct_from(json.loads(json.dumps(self.sessions[sid])), "sk_test")

    def create(self, params=None, options=None):
        with self.lock:
            key = (options or {}).get("idempotency_key")
            self._call("create", key)
            if key in self.by_key:
                return self._obj(self.by_key[key])
            sid = f"cs_test_{next(_ids):06d}"
            amount = sum(li["price_data"]["unit_amount"] * li["quantity"] for li in params["line_items"])
            self.sessions[sid] = {
                "id": sid,
                "object": "checkout.session",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "currency": params["currency"],
                "client_reference_id": params["client_reference_id"],
                "metadata": params["metadata"],
                "expires_at": params["expires_at"],
                "url": f"https://checkout.stripe.test/c/pay/{sid}",
                "payment_intent": None,
                "params": params,
            }
            if key:
                self.by_key[key] = sid
            return self._obj(sid)

    def retrieve(self, sid, params=None, options=None):
        with self.lock:
            self._call("retrieve", sid)
            if sid not in self.sessions:
                raise stripe.InvalidRequestError(f"No such checkout.session: '{sid}'", "id")
            return self._obj(sid)

    def expire(self, sid, params=None, options=None):
        with self.lock:
            self._call("expire", sid)
            session = self.sessions[sid]
            if session["status"] != "open":
                raise stripe.InvalidRequestError(
                    f'Only Checkout Sessions with a status in ["open"] can be expired. This '
                    f'Checkout Session has a status of "{session["status"]}".',
                    None,
                )
            session["status"] = "expired"
            return self._obj(sid)

    # --- what happens at Stripe's end -----------------------------------------------------------

    def pay(self, sid, *, asynchronous: bool = False, **override) -> dict:
        session = self.sessions[sid]
        session.update(status="complete", payment_status="unpaid" if asynchronous else "paid")
        session["payment_intent"] = f"pi_{sid[-6:]}"
        session.update(override)
        return session

    def settle(self, sid, *, paid: bool) -> dict:
        session = self.sessions[sid]
        session["payment_status"] = "paid" if paid else "unpaid"
        return session

    def time_out(self, sid) -> dict:
        session = self.sessions[sid]
        session["status"] = "expired"
        return session


class StubEvents:
    """The Event service's list: the events Stripe could not deliver (a test puts them here)."""

    def __init__(self):
        self.undelivered: list[dict] = []
        self.calls: list[dict] = []

    def list(self, params=None, options=None):
        self.calls.append(params)
        objects = [
            stripe.StripeObject.construct_from(json.loads(json.dumps(e)), "sk_test") for e in self.undelivered
        ]

        class _Page:
            def auto_paging_iter(self):
                return iter(objects)

        return _Page()
