"""A local stand-in for api.stripe.com, enough for Checkout, refunds and dj-stripe's syncs.

It speaks Stripe's wire format: form-encoded requests (`metadata[team_id]=1`,
`expand[0]=...`), JSON objects with `id`/`object`, Stripe-shaped errors, and it honours
`expand` on retrieve. It records every request so tests can assert what the app sent.
The SDK reaches it because tests set `stripe.api_base` (dj-stripe's STRIPE_API_HOST).

Test helpers: `pay(session_id)` completes a session as a card payment would (customer,
payment intent, charge with a receipt URL); `refund(charge_id, amount)` refunds part or
all of a charge; `event(type, obj)` builds an Event as Stripe would post it.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-05-27.dahlia"
ACCOUNT_ID = "acct_1FakeStripeLocal0"


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket encoding back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            if part == "[]":
                part = str(len(node))
            if i == len(parts) - 1:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def _public(obj: dict) -> dict:
    """Drop the fake's private bookkeeping keys (`_line_items`)."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeStripe:
    host: str = "127.0.0.1"
    requests: list[Recorded] = field(default_factory=list)
    objects: dict[str, dict[str, dict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.reset()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_DELETE(self):
                fake._handle(self, "DELETE")

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}"

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.requests = []
            self.objects = {
                "checkout.session": {},
                "customer": {},
                "payment_intent": {},
                "charge": {},
                "webhook_endpoint": {},
                "event": {},
            }

    # --- what tests look at ---------------------------------------------------------------

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def session(self, session_id: str) -> dict:
        return self.objects["checkout.session"][session_id]

    # --- state changes a real customer or Stripe would cause ------------------------------

    def pay(self, session_id: str) -> dict:
        """The buyer paid by card: a payment intent with a succeeded charge appears.

        As on Stripe, a payment-mode session creates a Customer only when it was asked
        to (`customer_creation=always`); otherwise `customer` stays null.
        """
        with self._lock:
            session = self.objects["checkout.session"][session_id]
            now = int(time.time())
            customer = {
                "id": _id("cus"),
                "object": "customer",
                "address": None,
                "balance": 0,
                "created": now,
                "currency": None,
                "default_source": None,
                "delinquent": False,
                "description": None,
                "discount": None,
                "email": session.get("customer_email"),
                "invoice_prefix": secrets.token_hex(4).upper(),
                "invoice_settings": {
                    "custom_fields": None,
                    "default_payment_method": None,
                    "footer": None,
                    "rendering_options": None,
                },
                "livemode": False,
                "metadata": {},
                "name": None,
                "phone": None,
                "preferred_locales": [],
                "shipping": None,
                "tax_exempt": "none",
                "test_clock": None,
            }
            intent_id, charge_id = _id("pi"), _id("ch")
            charge = {
                "id": charge_id,
                "object": "charge",
                "amount": session["amount_total"],
                "amount_captured": session["amount_total"],
                "amount_refunded": 0,
                "balance_transaction": None,
                "billing_details": {
                    "address": None,
                    "email": session.get("customer_email"),
                    "name": None,
                    "phone": None,
                },
                "captured": True,
                "created": now,
                "currency": session["currency"],
                "customer": customer["id"],
                "description": None,
                "disputed": False,
                "failure_code": None,
                "failure_message": None,
                "fraud_details": {},
                "invoice": None,
                "livemode": False,
                "metadata": dict(session["metadata"]),
                "outcome": {"network_status": "approved_by_network", "type": "authorized"},
                "paid": True,
                "payment_intent": intent_id,
                "payment_method": None,
                "payment_method_details": {"type": "card"},
                "receipt_email": session.get("customer_email"),
                "receipt_number": None,
                "receipt_url": f"{self.url}/receipts/{charge_id}",
                "refunded": False,
                "refunds": {"object": "list", "data": [], "has_more": False, "url": ""},
                "status": "succeeded",
            }
            intent = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_capturable": 0,
                "amount_received": session["amount_total"],
                "capture_method": "automatic_async",
                "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
                "confirmation_method": "automatic",
                "created": now,
                "currency": session["currency"],
                "customer": customer["id"],
                "description": None,
                "last_payment_error": None,
                "latest_charge": charge_id,
                "livemode": False,
                "metadata": dict(session["metadata"]),
                "next_action": None,
                "on_behalf_of": None,
                "payment_method": None,
                "payment_method_types": ["card"],
                "receipt_email": session.get("customer_email"),
                "setup_future_usage": None,
                "shipping": None,
                "statement_descriptor": None,
                "status": "succeeded",
            }
            if session["customer_creation"] == "always":
                self.objects["customer"][customer["id"]] = customer
            else:
                customer = {"id": None}
                charge["customer"] = intent["customer"] = None
            self.objects["charge"][charge_id] = charge
            self.objects["payment_intent"][intent_id] = intent
            session.update(
                status="complete",
                payment_status="paid",
                customer=customer["id"],
                payment_intent=intent_id,
                customer_details={"email": session.get("customer_email"), "name": None},
            )
            return _public(copy.deepcopy(session))

    def refund(self, charge_id: str, amount: int | None = None) -> dict:
        """Refund `amount` more cents (all that is left by default); returns the charge."""
        with self._lock:
            charge = self.objects["charge"][charge_id]
            left = charge["amount"] - charge["amount_refunded"]
            amount = left if amount is None else min(amount, left)
            refund = {
                "id": _id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge_id,
                "created": int(time.time()),
                "currency": charge["currency"],
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": "requested_by_customer",
                "status": "succeeded",
            }
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            charge["refunds"]["data"].insert(0, refund)
            return copy.deepcopy(charge)

    def event(self, type_: str, obj: dict) -> dict:
        """An Event as Stripe posts it to a webhook endpoint (and serves at /v1/events/<id>)."""
        event = {
            "id": _id("evt"),
            "object": "event",
            "account": None,
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self.objects["event"][event["id"]] = event
        return event

    # --- the HTTP side ------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        body = b""
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        pairs += parse_qsl(body.decode(), keep_blank_values=True)
        params = decode_form(pairs)
        with self._lock:
            self.requests.append(
                Recorded(
                    method, parts.path, params, {k.lower(): v for k, v in handler.headers.items()}
                )
            )
        if parts.path.startswith("/v1/") and not handler.headers.get(
            "Authorization", ""
        ).startswith("Bearer sk_"):
            return self._error(
                handler, 401, "authentication_error", None, "Invalid API Key provided."
            )
        try:
            status, payload, content_type = self._route(method, parts.path, params)
        except KeyError as missing:
            return self._error(
                handler,
                404,
                "invalid_request_error",
                "resource_missing",
                f"No such object: '{missing.args[0]}'",
            )
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", _id("req"))
        handler.end_headers()
        handler.wfile.write(data)

    def _error(self, handler, status: int, type_: str, code: str | None, message: str) -> None:
        data = json.dumps(
            {"error": {"type": type_, "code": code, "message": message, "param": "id"}}
        ).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method: str, path: str, params: dict) -> tuple[int, Any, str]:
        json_type = "application/json"
        if method == "GET" and path.startswith("/c/pay/"):
            return 200, self._checkout_page(path.rsplit("/", 1)[-1]), "text/html; charset=utf-8"
        if method == "GET" and path.startswith("/receipts/"):
            return 200, "<h1>Receipt</h1>", "text/html; charset=utf-8"
        if method == "GET" and path == "/v1/account":
            return 200, self._account(), json_type
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._session_create(params), json_type
        if method == "GET" and path == "/v1/checkout/sessions":
            return 200, self._session_list(params), json_type
        if method == "POST" and path == "/v1/webhook_endpoints":
            return 200, self._webhook_endpoint_create(params), json_type
        match = re.fullmatch(
            r"/v1/(checkout/sessions|customers|payment_intents|charges|webhook_endpoints|events)/([^/]+)",
            path,
        )
        if method == "GET" and match:
            kind = {
                "checkout/sessions": "checkout.session",
                "customers": "customer",
                "payment_intents": "payment_intent",
                "charges": "charge",
                "webhook_endpoints": "webhook_endpoint",
                "events": "event",
            }[match.group(1)]
            obj = copy.deepcopy(self.objects[kind][match.group(2)])
            for path_ in params.get("expand", []):
                self._expand(obj, path_.split("."))
            return 200, _public(obj), json_type
        raise KeyError(path)

    def _expand(self, obj: Any, path: list[str]) -> None:
        """Replace an id by its object, following a dotted expand path (`a.data.b` for lists)."""
        if not path or not isinstance(obj, dict):
            return
        head, rest = path[0], path[1:]
        if head == "data" and isinstance(obj.get("data"), list):
            for item in obj["data"]:
                self._expand(item, rest)
            return
        value = obj.get(head)
        if isinstance(value, str):
            for kind in ("payment_intent", "charge", "customer"):
                if value in self.objects[kind]:
                    value = obj[head] = copy.deepcopy(self.objects[kind][value])
                    break
        if head == "line_items" and head not in obj:
            value = obj[head] = copy.deepcopy(obj.get("_line_items"))
        self._expand(value, rest)

    def _account(self) -> dict:
        return {
            "id": ACCOUNT_ID,
            "object": "account",
            "business_profile": {"name": "Portrait Studio (fake)", "url": None},
            "business_type": "company",
            "capabilities": {"card_payments": "active"},
            "charges_enabled": True,
            "controller": {"type": "account"},
            "country": "US",
            "created": 1700000000,
            "default_currency": "usd",
            "details_submitted": True,
            "email": "owner@example.com",
            "metadata": {},
            "payouts_enabled": True,
            "settings": {
                "branding": {"icon": None, "logo": None, "primary_color": None},
                "dashboard": {"display_name": "Portrait Studio", "timezone": "Etc/UTC"},
            },
            "type": "standard",
        }

    def _session_list(self, params: dict) -> dict:
        """GET /v1/checkout/sessions?payment_intent=...: Stripe's filter by payment intent."""
        intent = params.get("payment_intent")
        found = [
            _public(copy.deepcopy(session))
            for session in self.objects["checkout.session"].values()
            if intent and session.get("payment_intent") == intent
        ]
        limit = int(params.get("limit") or 10)
        return {
            "object": "list",
            "url": "/v1/checkout/sessions",
            "has_more": False,
            "data": found[:limit],
        }

    def _session_create(self, params: dict) -> dict:
        session_id = _id("cs")
        items = params.get("line_items", [])
        amount = sum(
            int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items
        )
        currency = items[0]["price_data"]["currency"] if items else "usd"
        line_items = {
            "object": "list",
            "data": [
                {
                    "id": _id("li"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": int(item["price_data"]["unit_amount"])
                    * int(item.get("quantity", 1)),
                    "amount_tax": 0,
                    "amount_total": int(item["price_data"]["unit_amount"])
                    * int(item.get("quantity", 1)),
                    "currency": item["price_data"]["currency"],
                    "description": item["price_data"]["product_data"]["name"],
                    "discounts": [],
                    "price": None,
                    "quantity": int(item.get("quantity", 1)),
                }
                for item in items
            ],
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }
        now = int(time.time())
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "billing_address_collection": None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "customer": None,
            "customer_creation": params.get("customer_creation", "if_required"),
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": now + 24 * 3600,
            "livemode": False,
            "locale": None,
            "metadata": params.get("metadata", {}),
            "mode": params.get("mode"),
            "payment_intent": None,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "url": f"{self.url}/c/pay/{session_id}",
        }
        stored = dict(session, _line_items=line_items)
        with self._lock:
            self.objects["checkout.session"][session_id] = stored
        return session

    def _webhook_endpoint_create(self, params: dict) -> dict:
        endpoint = {
            "id": _id("we"),
            "object": "webhook_endpoint",
            "api_version": params.get("api_version") or API_VERSION,
            "application": None,
            "created": int(time.time()),
            "description": params.get("description"),
            "enabled_events": params.get("enabled_events", []),
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "secret": f"whsec_{secrets.token_hex(16)}",
            "status": "enabled",
            "url": params.get("url"),
        }
        with self._lock:
            self.objects["webhook_endpoint"][endpoint["id"]] = {
                k: v for k, v in endpoint.items() if k != "secret"
            }
        return endpoint

    def _checkout_page(self, session_id: str) -> str:
        session = self.objects["checkout.session"][session_id]
        return (
            "<!doctype html><title>Fake Stripe Checkout</title>"
            f"<h1>Pay {session['amount_total'] / 100:.2f} {session['currency'].upper()}</h1>"
            f"<p data-session='{session_id}'>Fake Stripe Checkout for {session_id}</p>"
        )
