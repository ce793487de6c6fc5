"""Checkout Sessions and the events their changes emit, as Stripe keeps them (shapes: docs.stripe.com/api).

Everything is in memory and behind one lock; an event is handed to `on_events` (the webhook dispatcher)
in the batch its change made, after the change is in place.
"""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from collections.abc import Callable

from .errors import StripeError, missing

API_VERSION = "2026-10-28.endive"  # what stripe-python 16.1.0 pins (stripe/_api_version.py)
MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
EXPIRY_SLACK = 10  # seconds: a client's now+30min arrives a moment later than it was computed
MAX_LINE_ITEMS = 100
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"}
# Stripe's minimum charge, in the smallest unit, for the currencies a test is likely to use.
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50, "jpy": 50}

# Create parameters the fake models, and real ones it accepts without modelling (so a client that
# sets them is not refused); anything else is an unknown parameter, as on Stripe.
MODELLED = {
    "mode",
    "line_items",
    "success_url",
    "cancel_url",
    "client_reference_id",
    "customer_email",
    "metadata",
    "expires_at",
    "currency",
    "payment_intent_data",
    "payment_method_types",
    "locale",
    "submit_type",
    "ui_mode",
    "expand",
}
ACCEPTED = {
    "allow_promotion_codes",
    "billing_address_collection",
    "consent_collection",
    "custom_text",
    "customer_creation",
    "invoice_creation",
    "phone_number_collection",
    "automatic_tax",
    "after_expiration",
    "payment_method_options",
    "tax_id_collection",
}
LINE_ITEM_KEYS = {"price", "price_data", "quantity", "adjustable_quantity", "tax_rates", "dynamic_tax_rates"}
PRICE_DATA_KEYS = {
    "currency",
    "unit_amount",
    "unit_amount_decimal",
    "product",
    "product_data",
    "tax_behavior",
}
PRODUCT_DATA_KEYS = {"name", "description", "images", "metadata", "tax_code", "unit_label"}

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def snapshot(obj: dict) -> dict:
    return copy.deepcopy(obj)


class Store:
    def __init__(
        self,
        *,
        public_url: Callable[[], str],
        on_events: Callable[[list[dict]], None],
        session_timeout: float = MAX_EXPIRY,
        api_version: str = API_VERSION,
        webhook_count: Callable[[], int] = lambda: 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.sessions: dict[str, dict] = {}
        self.line_items: dict[str, list[dict]] = {}
        self.payment_intent_data: dict[str, dict] = {}
        self.events: list[dict] = []  # oldest first
        self.events_by_id: dict[str, dict] = {}
        self.idempotency: dict[str, tuple[str, list, int, bytes]] = {}
        self._public_url = public_url
        self._on_events = on_events
        self._webhook_count = webhook_count
        self.session_timeout = session_timeout
        self.api_version = api_version
        self.clock = clock

    # --- reads ---

    def session(self, session_id: str) -> dict:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise missing("checkout.session", session_id, param="session") from None

    def event(self, event_id: str) -> dict:
        try:
            return self.events_by_id[event_id]
        except KeyError:
            raise missing("event", event_id) from None

    # --- create ---

    def create_session(self, params: dict) -> dict:
        now = int(self.clock())
        for key in params:
            if key not in MODELLED and key not in ACCEPTED:
                raise StripeError(400, f"Received unknown parameter: {key}", param=key)
        mode = params.get("mode")
        if mode is None:
            raise StripeError(400, "Missing required param: mode.", param="mode")
        if mode in ("subscription", "setup"):
            raise StripeError(
                400, f"The fake Stripe server supports only mode=payment, not {mode}.", param="mode"
            )
        if mode != "payment":
            raise StripeError(
                400, "Invalid mode: must be one of payment, setup, or subscription", param="mode"
            )
        ui_mode = params.get("ui_mode", "hosted")
        if ui_mode != "hosted":
            raise StripeError(400, "The fake Stripe server supports only ui_mode=hosted.", param="ui_mode")
        currency = _string(params, "currency")
        if currency is not None:
            currency = currency.lower()
        lines = self._line_items(params.get("line_items"), currency, now)
        currency = lines[0]["currency"]
        subtotal = sum(line["amount_subtotal"] for line in lines)
        minimum = MINIMUM_CHARGE.get(currency)
        if minimum is not None and subtotal < minimum:
            raise StripeError(
                400,
                "The Checkout Session's total amount due must add up to at least "
                f"{_money(minimum, currency)}",
                param="line_items",
            )
        if "expires_at" in params:
            expires_at = _integer(params["expires_at"], "expires_at")
            if expires_at - now < MIN_EXPIRY - EXPIRY_SLACK:
                raise StripeError(
                    400,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                    param="expires_at",
                )
            if expires_at - now > MAX_EXPIRY:
                raise StripeError(
                    400,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                    param="expires_at",
                )
        else:
            expires_at = now + max(1, int(self.session_timeout))
        metadata = _metadata(params.get("metadata"), "metadata")
        pi_data = params.get("payment_intent_data", {})
        if not isinstance(pi_data, dict):
            raise StripeError(400, "Invalid object", param="payment_intent_data")
        pi_metadata = _metadata(pi_data.get("metadata"), "payment_intent_data[metadata]")
        reference = _string(params, "client_reference_id")
        if reference is not None and not 1 <= len(reference) <= 200:
            raise StripeError(
                400, "client_reference_id must be between 1 and 200 characters", param="client_reference_id"
            )
        email = _string(params, "customer_email")
        if email is not None and "@" not in email:
            raise StripeError(
                400, f"Invalid email address: {email}", param="customer_email", code="email_invalid"
            )
        methods = params.get("payment_method_types", ["card"])
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise StripeError(400, "Invalid array", param="payment_method_types")
        session_id = new_id("cs_test_", 58)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "adaptive_pricing": None,
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": subtotal,
            "amount_total": subtotal,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": _string(params, "cancel_url"),
            "client_reference_id": reference,
            "client_secret": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": currency,
            "custom_fields": [],
            "custom_text": {"after_submit": None, "shipping_address": None, "submit": None},
            "customer": None,
            "customer_creation": "if_required",
            "customer_details": None,
            "customer_email": email,
            "expires_at": expires_at,
            "invoice": None,
            "invoice_creation": None,
            "livemode": False,
            "locale": _string(params, "locale"),
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "if_required",
            "payment_method_options": {},
            "payment_method_types": methods,
            "payment_status": "unpaid",
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": _string(params, "submit_type"),
            "subscription": None,
            "success_url": _string(params, "success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            "url": f"{self._public_url()}/pay/{session_id}",
        }
        with self.lock:
            self.sessions[session_id] = session
            self.line_items[session_id] = lines
            self.payment_intent_data[session_id] = {"metadata": pi_metadata}
        return session

    def _line_items(self, raw, currency: str | None, now: int) -> list[dict]:
        if raw is None:
            raise StripeError(400, "`line_items` is required in `payment` mode.", param="line_items")
        if not isinstance(raw, list) or not raw:
            raise StripeError(400, "Invalid array", param="line_items")
        if len(raw) > MAX_LINE_ITEMS:
            raise StripeError(
                400, f"line_items may contain at most {MAX_LINE_ITEMS} items", param="line_items"
            )
        lines = []
        for index, item in enumerate(raw):
            where = f"line_items[{index}]"
            if not isinstance(item, dict):
                raise StripeError(400, "Invalid object", param=where)
            for key in item:
                if key not in LINE_ITEM_KEYS:
                    raise StripeError(
                        400, f"Received unknown parameter: {where}[{key}]", param=f"{where}[{key}]"
                    )
            if "price" in item:
                raise missing("price", str(item["price"]), param=f"{where}[price]")
            data = item.get("price_data")
            if not isinstance(data, dict):
                raise StripeError(
                    400, f"You must specify either `price` or `price_data` in {where}.", param=where
                )
            for key in data:
                if key not in PRICE_DATA_KEYS:
                    raise StripeError(
                        400,
                        f"Received unknown parameter: {where}[price_data][{key}]",
                        param=f"{where}[price_data][{key}]",
                    )
            line_currency = data.get("currency")
            if not isinstance(line_currency, str) or not line_currency:
                raise StripeError(
                    400,
                    f"Missing required param: {where}[price_data][currency].",
                    param=f"{where}[price_data][currency]",
                )
            line_currency = line_currency.lower()
            if currency is not None and line_currency != currency:
                raise StripeError(
                    400,
                    "Checkout does not support multiple currencies. All line items must share one currency.",
                    param=f"{where}[price_data][currency]",
                )
            currency = line_currency
            if "unit_amount" in data:
                unit_amount = _integer(data["unit_amount"], f"{where}[price_data][unit_amount]")
            elif "unit_amount_decimal" in data:
                unit_amount = _integer(
                    data["unit_amount_decimal"], f"{where}[price_data][unit_amount_decimal]"
                )
            else:
                raise StripeError(
                    400,
                    f"Missing required param: {where}[price_data][unit_amount].",
                    param=f"{where}[price_data][unit_amount]",
                )
            if unit_amount < 0:
                raise StripeError(
                    400,
                    "This value must be greater than or equal to 0.",
                    param=f"{where}[price_data][unit_amount]",
                )
            if "product" in data:
                raise missing("product", str(data["product"]), param=f"{where}[price_data][product]")
            product = data.get("product_data")
            if not isinstance(product, dict):
                raise StripeError(
                    400,
                    f"You must specify either `product` or `product_data` in {where}[price_data].",
                    param=f"{where}[price_data]",
                )
            for key in product:
                if key not in PRODUCT_DATA_KEYS:
                    raise StripeError(
                        400,
                        f"Received unknown parameter: {where}[price_data][product_data][{key}]",
                        param=f"{where}[price_data][product_data][{key}]",
                    )
            name = product.get("name")
            if not isinstance(name, str) or not name.strip():
                raise StripeError(
                    400,
                    f"Missing required param: {where}[price_data][product_data][name].",
                    param=f"{where}[price_data][product_data][name]",
                )
            if "quantity" not in item:
                raise StripeError(
                    400, f"Missing required param: {where}[quantity].", param=f"{where}[quantity]"
                )
            quantity = _integer(item["quantity"], f"{where}[quantity]")
            if quantity < 1:
                raise StripeError(
                    400, "This value must be greater than or equal to 1.", param=f"{where}[quantity]"
                )
            amount = unit_amount * quantity
            lines.append(
                {
                    "id": new_id("li_"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": 0,
                    "amount_total": amount,
                    "currency": line_currency,
                    "description": name,
                    "price": {
                        "id": new_id("price_"),
                        "object": "price",
                        "active": False,
                        "billing_scheme": "per_unit",
                        "created": now,
                        "currency": line_currency,
                        "custom_unit_amount": None,
                        "livemode": False,
                        "lookup_key": None,
                        "metadata": {},
                        "nickname": None,
                        "product": new_id("prod_", 14),
                        "recurring": None,
                        "tax_behavior": data.get("tax_behavior", "unspecified"),
                        "tiers_mode": None,
                        "transform_quantity": None,
                        "type": "one_time",
                        "unit_amount": unit_amount,
                        "unit_amount_decimal": str(unit_amount),
                    },
                    "quantity": quantity,
                }
            )
        return lines

    # --- changes: each emits its events once the session has changed ---

    def pay(self, session_id: str, outcome: str = "paid") -> tuple[dict, list[dict]]:
        """The customer submits the hosted page. `outcome`: "paid" (a card), "failed" or "pending"
        (a delayed method whose result comes later: the session completes unpaid)."""
        with self.lock:
            session = self.session(session_id)
            self.expire_due()
            if session["status"] != "open":
                raise StripeError(
                    400, f"This Checkout Session is no longer open: its status is `{session['status']}`."
                )
            session["status"] = "complete"
            session["payment_status"] = "paid" if outcome == "paid" else "unpaid"
            session["payment_intent"] = new_id("pi_")
            session["url"] = None
            session["customer_details"] = {
                "address": None,
                "email": session["customer_email"] or "customer@example.com",
                "name": "Test Customer",
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            }
            batch = [self._event("checkout.session.completed", session)]
            if outcome == "failed":
                batch.append(self._event("checkout.session.async_payment_failed", session))
        self._on_events(batch)
        return snapshot(session), batch

    def settle(self, session_id: str) -> tuple[dict, list[dict]]:
        """A delayed payment succeeds: a completed, unpaid session becomes paid."""
        with self.lock:
            session = self.session(session_id)
            if session["status"] != "complete" or session["payment_status"] != "unpaid":
                raise StripeError(400, "This Checkout Session has no payment waiting to succeed.")
            session["payment_status"] = "paid"
            batch = [self._event("checkout.session.async_payment_succeeded", session)]
        self._on_events(batch)
        return snapshot(session), batch

    def expire(self, session_id: str, request: dict | None = None) -> dict:
        with self.lock:
            session = self.session(session_id)
            if session["status"] != "open":
                raise StripeError(
                    400,
                    'Only Checkout Sessions with a status in ["open"] can be expired. '
                    f"This Checkout Session has a status of `{session['status']}`.",
                )
            batch = [self._expire(session, request)]
        self._on_events(batch)
        return snapshot(session)

    def expire_due(self) -> int:
        """Expire every open session past its expires_at (the sweeper, and a late visit to the page)."""
        now = self.clock()
        with self.lock:
            batch = [
                self._expire(session, None)
                for session in self.sessions.values()
                if session["status"] == "open" and session["expires_at"] <= now
            ]
        if batch:
            self._on_events(batch)
        return len(batch)

    def _expire(self, session: dict, request: dict | None) -> dict:
        session["status"] = "expired"
        session["url"] = None
        return self._event("checkout.session.expired", session, request)

    def _event(self, type_: str, obj: dict, request: dict | None = None) -> dict:
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": int(self.clock()),
            "data": {"object": snapshot(obj)},
            "livemode": False,
            "pending_webhooks": self._webhook_count(),
            "request": request or {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self.events.append(event)
        self.events_by_id[event["id"]] = event
        return event

    def delivered(self, event_id: str) -> None:
        with self.lock:
            event = self.events_by_id.get(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1


def _string(params: dict, key: str) -> str | None:
    value = params.get(key)
    if value is not None and not isinstance(value, str):
        raise StripeError(400, f"Invalid string: {key} must be a string", param=key)
    return value


def _integer(value, param: str) -> int:
    try:
        if not isinstance(value, str):
            raise ValueError
        return int(value)
    except ValueError:
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


def _metadata(value, param: str) -> dict:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", param=param)
    if len(value) > 50:
        raise StripeError(400, "Metadata can have at most 50 keys", param=param)
    for key, item in value.items():
        if len(key) > 40:
            raise StripeError(400, "Metadata keys can be at most 40 characters long", param=f"{param}[{key}]")
        if not isinstance(item, str):
            raise StripeError(400, "Invalid string", param=f"{param}[{key}]")
        if len(item) > 500:
            raise StripeError(
                400, "Metadata values can be at most 500 characters long", param=f"{param}[{key}]"
            )
    return {key: item for key, item in value.items() if item != ""}  # "" unsets a key on Stripe


def _money(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    return f"{amount / 100:.2f} {currency}"


def money(amount: int, currency: str) -> str:
    return _money(amount, currency).upper()
