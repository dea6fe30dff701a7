"""In-memory Zoho simulator: OAuth token endpoint + Inventory v1 + Books v3 for one organisation.

Why it exists: Shipbridge's Zoho clients, webhook receiver and jobs need to be tested against the
things real Zoho does to integrations — the 10-tokens-per-10-minutes throttle, OAuth errors at
HTTP 200, expired tokens, a missing `organization_id`, errors inside HTTP 200, 429s and nginx 5xx
pages, 19-digit ids, custom fields addressed by `api_name`, stock that only moves on shipment and
receive, and invoice balances that refuse over-application — without a live org. Shapes follow
Zoho's OpenAPI files (see /work/shared/reference); where they are silent the choice is documented
where it is made. `ZohoSim` holds the state and the test-facing helpers; `sandbox.zoho_routes.create_app` serves it.

Strict where the specs are: tokens carry the scopes granted to the self client (`scopes`) and a call
outside them gets code 57 under HTTP 401 (or `scope_refusal_status`); a sales-order PUT needs the
OAS-required salesorder_number, customer_id and line_items (which replace the lines); sales-return and
adjustment lists take only page/per_page and return the OAS row fields. docs/fidelity.md has the sources.

Choices where the material is silent (so tests do not mistake them for Zoho promises): unknown or
non-`Zoho-oauthtoken` tokens get 401 code 14, expired/evicted ones 401 code 57; a missing or wrong
organization_id gets HTTP 400 code 6041; stock drops when a shipment order is created; codes 36014-
36017 and 24016 are invented placeholders; create/update replies use the GET keys (`salesorder`),
shipments `shipment_order`, payment lists `customer_payments` (Books) / `customerpayments`
(Inventory), as each spec names them; a credit note created with
?invoice_id= is only associated with the invoice, never auto-applied.

    sim = ZohoSim()
    server = ThreadedServer(create_app(sim)).start()   # tokens at {url}/oauth/v2/token,
                                                       # APIs at {url}/inventory/v1, {url}/books/v3
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request

from sandbox.faults import Fault, FaultBox
from sandbox.zoho_books import BooksMixin
from sandbox.zoho_common import (
    E_INVALID_TOKEN,
    E_NOT_AUTHORIZED,
    E_WRONG_ORG,
    INDIAN_STATE_CODES,
    IdFactory,
    SimClock,
    ZohoError,
    dec,
    money,
    required_scope,
    scope_allows,
    wire,
)
from sandbox.zoho_inventory import ZERO
from sandbox.zoho_quota import ZohoQuota

__all__ = ["ZohoSim", "ZohoError", "DEFAULT_SO_CUSTOM_FIELDS", "DEFAULT_ITEMS"]

TOO_MANY_TOKEN_REQUESTS = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
}
# Sales-order custom fields every fresh simulator has (api_name -> label).
# The integration guide's sales-order custom fields (api_name -> label), which the README asks the
# seller to create, plus the optional payment-method field the COD rule reads.
DEFAULT_SO_CUSTOM_FIELDS = {
    "cf_awb_number": "AWB Number",
    "cf_shiprocket_order_id": "Shiprocket Order ID",
    "cf_shipment_status": "Shipment Status",
    "cf_courier_partner": "Courier Partner",
    "cf_cod_remittance_id": "COD Remittance ID",
    "cf_payment_method": "Payment Method",
}
# Items every fresh simulator has; the serum is non-returnable (cosmetics usually are).
DEFAULT_ITEMS: list[dict[str, Any]] = [
    {"name": "Cotton Kurta - Indigo (M)", "sku": "KURTA-IND-M", "rate": "1299.00",
     "package_details": {"length": 30, "width": 25, "height": 4, "weight": 0.4}},
    {"name": "Steel Water Bottle 1L", "sku": "BOTTLE-STL-1L", "rate": "649.00",
     "package_details": {"length": 8, "width": 8, "height": 28, "weight": 0.45}},
    {"name": "Vitamin C Face Serum 30ml", "sku": "SERUM-VITC-30", "rate": "899.00", "is_returnable": False,
     "package_details": {"length": 5, "width": 5, "height": 12, "weight": 0.12}},
]


class ZohoSim(BooksMixin):
    """State + helpers. Thread-safe: the server thread and the test thread share one RLock."""

    def __init__(self, client_id: str = "sandbox-client", client_secret: str = "sandbox-secret",
                 refresh_token: str = "sandbox-refresh", organization_id: str = "60012345678",
                 token_limit: int = 10, token_window_seconds: float = 600,
                 scopes: Iterable[str] | None = None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.organization_id = organization_id
        self.token_limit = token_limit
        self.token_window_seconds = token_window_seconds
        # The self client's granted scopes (None: full access). Tokens carry the grant they were issued
        # under, as Zoho's do: changing `scopes` affects tokens issued afterwards only.
        self.default_scopes = None if scopes is None else tuple(scopes)
        # Zoho answers a call outside the token's scopes with code 57, seen with HTTP 401 and 403.
        self.scope_refusal_status = 401
        self.token_ttl_seconds = 3600
        self.max_active_tokens = 10        # Zoho keeps 10 live access tokens per refresh token
        self.api_domain: str | None = None  # None -> the simulator's own base URL
        self.allow_negative_stock = False
        self.faults = FaultBox()
        self.quota = ZohoQuota()  # per-minute and daily limits, off until configured
        self.clock = SimClock()
        self._lock = threading.RLock()
        self.calls: list[tuple[str, str]] = []
        self.call_times: list[float] = []  # time.monotonic() of each entry in `calls` (rate-limit checks)
        self.reset()

    # ================================================================== lifecycle
    def reset(self) -> None:
        """Clear all data, counters, tokens, faults and clock shifts; re-seed the defaults."""
        with self._lock:
            self.faults.reset()
            self.quota.reset()
            self.clock.offset = 0.0
            self.calls.clear()
            self.call_times.clear()
            self.token_requests = 0
            self.scopes = self.default_scopes
            self.so_lists_salesreturns = True  # GET /salesorders/{id} carries salesreturns[] (see _so_view)
            self.scope_refusals: list[str] = []  # the scopes calls were refused for, in order
            self._tokens: dict[str, float] = {}   # token -> expiry on the sim's monotonic clock
            self._token_scopes: dict[str, tuple[str, ...] | None] = {}
            self._grants: deque[float] = deque()  # monotonic times of granted tokens (throttle window)
            self.ids = IdFactory()
            self._seq = 0
            self.locations: dict[str, dict[str, Any]] = {}
            self.items: dict[str, dict[str, Any]] = {}
            self.contacts: dict[str, dict[str, Any]] = {}
            self.accounts: dict[str, dict[str, Any]] = {}
            self.so_custom_fields: dict[str, dict[str, Any]] = {}
            self.salesorders: dict[str, dict[str, Any]] = {}
            self.packages: dict[str, dict[str, Any]] = {}
            self.shipments: dict[str, dict[str, Any]] = {}
            self.salesreturns: dict[str, dict[str, Any]] = {}
            self.receives: dict[str, dict[str, Any]] = {}
            self.adjustments: dict[str, dict[str, Any]] = {}
            self.invoices: dict[str, dict[str, Any]] = {}
            self.payments: dict[str, dict[str, Any]] = {}
            self.creditnotes: dict[str, dict[str, Any]] = {}
            self._seed()

    def _seed(self) -> None:
        self.currency_id, self.template_id = self.ids.new_id(), self.ids.new_id()
        self.organization = {"organization_id": self.organization_id, "name": "Shipbridge Sandbox Pvt Ltd",
                             "contact_name": "Sandbox Admin", "email": "ops@example.com",
                             "is_default_org": True, "country": "India", "currency_code": "INR",
                             "currency_symbol": "₹", "time_zone": "Asia/Calcutta",
                             "fiscal_year_start_month": 3}
        for name, city, primary in (("Head Office", "Bengaluru", True),
                                    ("Mumbai Warehouse", "Mumbai", False)):
            loc_id = self.ids.new_id()
            self.locations[loc_id] = {"location_id": loc_id, "location_name": name, "is_primary": primary,
                                      "type": "general", "status": "active", "city": city}
        self.primary_location_id = next(iter(self.locations))
        for attr, name, kind in (("undeposited_account_id", "Undeposited Funds", "cash"),
                                 ("petty_cash_account_id", "Petty Cash", "cash"),
                                 ("bank_account_id", "HDFC Current Account", "bank"),
                                 ("sales_account_id", "Sales", "income"),
                                 ("cogs_account_id", "Cost of Goods Sold", "cost_of_goods_sold")):
            acc_id = self.ids.new_id()
            setattr(self, attr, acc_id)
            self.accounts[acc_id] = {"account_id": acc_id, "account_name": name, "account_type": kind}
        for api_name, label in DEFAULT_SO_CUSTOM_FIELDS.items():
            kind = "url" if api_name == "cf_tracking_url" else "string"
            self.add_custom_field(api_name, label, data_type=kind)
        for spec in DEFAULT_ITEMS:
            self.add_item(**spec)

    def advance_time(self, seconds: float) -> None:
        """Move the simulator's clocks forward (token expiry, token throttle window, timestamps)."""
        with self._lock:
            self.clock.offset += seconds

    # ================================================================== OAuth
    def _grant_token(self, params: Mapping[str, str], base_url: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.token_requests += 1
            if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
                return 200, {"error": "invalid_client"}
            if params.get("grant_type") != "refresh_token":
                return 200, {"error": "unsupported_grant_type"}
            if params.get("refresh_token") != self.refresh_token:
                return 200, {"error": "invalid_code"}
            now = self.clock.monotonic()
            while self._grants and now - self._grants[0] >= self.token_window_seconds:
                self._grants.popleft()
            if len(self._grants) >= self.token_limit:
                return 400, dict(TOO_MANY_TOKEN_REQUESTS)
            self._grants.append(now)
            token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            self._tokens[token] = now + self.token_ttl_seconds
            self._token_scopes[token] = self.scopes
            live = [t for t, exp in self._tokens.items() if exp > now]
            for old in live[:-self.max_active_tokens]:  # oldest live tokens stop working
                self._tokens[old] = float("-inf")
            return 200, {"access_token": token, "expires_in": self.token_ttl_seconds,
                         "api_domain": self.api_domain or base_url, "token_type": "Bearer"}

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 401 code 57."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = float("-inf")

    def _authorize(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            expiry = self._tokens.get(token.strip()) if scheme.lower() == "zoho-oauthtoken" else None
            if expiry is None:
                raise ZohoError(E_INVALID_TOKEN, "Invalid OAuth token.", 401)
            if expiry <= self.clock.monotonic():
                raise ZohoError(E_NOT_AUTHORIZED, "You are not authorized to perform this operation", 401)
            granted = self._token_scopes.get(token.strip())
            needed = required_scope(request.method, request.url.path)
            if granted is not None and not scope_allows(granted, needed):
                self.scope_refusals.append(needed)
                raise ZohoError(E_NOT_AUTHORIZED, "You are not authorized to perform this operation",
                                self.scope_refusal_status)
        if request.url.path.endswith("/organizations"):
            return  # the one call that works before you know your organization_id
        org = request.query_params.get("organization_id", "")
        if org != self.organization_id:
            raise ZohoError(E_WRONG_ORG, f"This user is not associated with the CompanyID/CompanyName:{org}.",
                            400)

    # ================================================================== faults
    def error_in_200(self, path: str, code: int = 1000, message: str = "Internal error",
                     times: int = 1, method: str | None = None) -> Fault:
        """Next `times` requests to `path` (fnmatch) get HTTP 200 with a non-zero Zoho code."""
        return self.faults.inject(path, status=200, body={"code": code, "message": message}, times=times,
                                  method=method)

    # ================================================================== seeding helpers (no HTTP)
    def add_item(self, *, name: str, sku: str, rate: Any, stock: Mapping[str, Any] | int | Decimal = 100,
                 package_details: Mapping[str, Any] | None = None, is_returnable: bool = True,
                 item_id: str | None = None, unit: str = "pcs", description: str = "",
                 hsn_or_sac: str = "") -> dict[str, Any]:
        with self._lock:
            if any(i["sku"] == sku for i in self.items.values()):
                raise ValueError(f"SKU {sku!r} already exists")
            item_id = item_id or self.ids.new_id()
            if item_id in self.items:
                raise ValueError(f"item_id {item_id!r} already exists")
            if isinstance(stock, Mapping):
                unknown = set(stock) - set(self.locations)
                if unknown:
                    raise ValueError(f"unknown location ids {sorted(unknown)}")
                per_location = {loc: dec(qty) for loc, qty in stock.items()}
            else:
                per_location = {self.primary_location_id: dec(stock)}
            rate = money(rate, "rate")
            item = self._stamp({
                "item_id": item_id, "name": name, "sku": sku, "unit": unit, "status": "active",
                "item_type": "inventory", "product_type": "goods", "description": description, "rate": rate,
                "purchase_rate": money(rate * Decimal("0.6")), "is_taxable": True, "tax_id": "",
                "tax_name": "", "tax_percentage": 0, "track_inventory": True, "can_be_sold": True,
                "can_be_purchased": True,
                "is_returnable": is_returnable, "hsn_or_sac": hsn_or_sac, "upc": "", "ean": "", "isbn": "",
                "part_number": "", "reorder_level": "", "group_id": "", "group_name": "", "source": "user",
                "image_name": "", "image_type": "", "is_combo_product": False,
                "is_linked_with_zohocrm": False, "custom_fields": [],
                "package_details": {"length": 0, "width": 0, "height": 0, "weight": 0, "weight_unit": "kg",
                                    "dimension_unit": "cm", **(package_details or {})},
                "_stock": per_location,
            })
            self.items[item_id] = item
            return wire(self._item_view(item))

    def create_salesorder(self, *, customer_name: str = "Priya Sharma", email: str = "priya@example.com",
                          phone: str = "9876543210", shipping_address: Mapping[str, Any] | None = None,
                          lines: list[Any] | None = None, payment_terms_label: str = "Due on Receipt",
                          custom_fields: Mapping[str, str] | None = None, status: str = "draft",
                          salesorder_number: str | None = None, reference_number: str = "",
                          shipping_charge: Any = 0, location_id: str | None = None, discount: Any = 0,
                          is_inclusive_tax: bool = False) -> dict[str, Any]:
        """Build a realistic SO. `lines`: [(item_id, qty)] or [{"item_id"|"sku", "quantity", "rate"?,
        "tax_percentage"?, "discount"?, "location_id"?}]; default one unit of the first default item.
        `discount`: entity-level, before tax ("10%" or an amount)."""
        with self._lock:
            address = {"attention": customer_name, "address": "12, 3rd Cross, MG Road",
                       "street2": "Indiranagar", "city": "Bengaluru", "state": "Karnataka",
                       "zip": "560038", "country": "India", "country_code": "IN", "phone": phone, "fax": "",
                       **(shipping_address or {})}
            address.setdefault("state_code", INDIAN_STATE_CODES.get(str(address["state"]).lower(), ""))
            contact = self._ensure_contact(customer_name, email, phone, address, payment_terms_label)
            specs = [self._line_spec(line) for line in (lines or [(next(iter(self.items)), 1)])]
            for api_name in custom_fields or {}:
                self.add_custom_field(api_name)
            so = self._new_salesorder(
                contact, specs, number=salesorder_number, status=status, reference_number=reference_number,
                location_id=location_id, shipping_address=address, payment_terms_label=payment_terms_label,
                shipping_charge=shipping_charge,
                custom_fields=[{"api_name": k, "value": v} for k, v in (custom_fields or {}).items()],
                extra={"discount": discount, "is_inclusive_tax": is_inclusive_tax})
            return wire(self._so_view(so))

    def _line_spec(self, line: Any) -> dict[str, Any]:
        if isinstance(line, Mapping):
            spec = dict(line)
            if "item_id" not in spec and "sku" in spec:
                spec["item_id"] = self.item_by_sku(spec.pop("sku"))["item_id"]
            return spec
        item_id, qty = line
        return {"item_id": item_id, "quantity": qty}

    def confirm_salesorder(self, salesorder_id: str) -> dict[str, Any]:
        with self._lock:
            return wire(self._so_view(self._set_so_status(salesorder_id, "confirmed")))

    def salesorder(self, salesorder_id: str) -> dict[str, Any]:
        """Current state, exactly as GET /salesorders/{id} would return it."""
        with self._lock:
            return wire(self._so_view(self._so(salesorder_id)))

    def custom_field(self, salesorder_id: str, api_name: str) -> str | None:
        with self._lock:
            return self._so(salesorder_id)["_cf"].get(api_name)

    def invoice_salesorder(self, salesorder_id: str) -> dict[str, Any]:
        """Invoice the not-yet-invoiced quantities (balance = total); a draft SO becomes confirmed."""
        with self._lock:
            return wire(self._invoice_salesorder(salesorder_id))

    def ship_salesorder(self, salesorder_id: str, *, tracking_number: str,
                        delivery_method: str = "Shiprocket", shipment_number: str | None = None,
                        delivered: bool = False) -> dict[str, Any]:
        """Shortcut: package every unpacked quantity of a confirmed SO and ship it (stock drops)."""
        with self._lock:
            so = self._so(salesorder_id)
            lines = [{"so_line_item_id": ln["line_item_id"],
                      "quantity": ln["quantity"] - ln["quantity_packed"]}
                     for ln in so["line_items"] if ln["quantity"] > ln["quantity_packed"]]
            pkg = self._create_package(salesorder_id, {"line_items": lines})
            shipment = self._create_shipment(salesorder_id, [pkg["package_id"]], {
                "shipment_number": shipment_number or self.ids.number("SH-"),
                "date": so["date"], "delivery_method": delivery_method, "tracking_number": tracking_number})
            if delivered:
                self._mark_delivered(shipment["shipment_id"])
            return wire(shipment)

    def stock(self, item_id: str, location_id: str | None = None) -> Decimal:
        with self._lock:
            item = self._item(item_id)
            if location_id is None:
                return sum(item["_stock"].values(), ZERO)
            return item["_stock"].get(location_id, ZERO)

    def item(self, item_id: str) -> dict[str, Any]:
        with self._lock:
            return wire(self._item_view(self._item(item_id)))

    def item_by_sku(self, sku: str) -> dict[str, Any]:
        with self._lock:
            for item in self.items.values():
                if item["sku"] == sku:
                    return wire(self._item_view(item))
            raise KeyError(sku)

    def _get(self, store: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
        with self._lock:
            return wire(store[key])

    def package(self, package_id: str) -> dict[str, Any]:
        with self._lock:
            return wire(self._package_view(self._package(package_id)))

    def shipment(self, shipment_id: str) -> dict[str, Any]:
        return self._get(self.shipments, shipment_id)

    def salesreturn(self, salesreturn_id: str) -> dict[str, Any]:
        return self._get(self.salesreturns, salesreturn_id)

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._get(self.invoices, invoice_id)

    def payment(self, payment_id: str) -> dict[str, Any]:
        return self._get(self.payments, payment_id)

    def creditnote(self, creditnote_id: str) -> dict[str, Any]:
        return self._get(self.creditnotes, creditnote_id)

    def find_payments(self, reference_number: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [wire(p) for p in self.payments.values()
                    if reference_number is None or p["reference_number"] == reference_number]

    # ================================================================== outbound webhook
    def webhook_body(self, salesorder_id: str) -> bytes:
        """Default-payload body of a sales-order workflow webhook: {"salesorder": {...GET shape...}}."""
        with self._lock:
            payload = {"salesorder": wire(self._so_view(self._so(salesorder_id)))}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @staticmethod
    def sign(body: bytes, secret: str) -> str:
        """X-Zoho-Webhook-Signature: hex HMAC-SHA256 of the raw request body."""
        return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()

    async def send_salesorder_webhook(self, url: str, secret: str, salesorder_id: str, *, form: bool = False,
                                      signature: str | None = None,
                                      headers: Mapping[str, str] | None = None) -> httpx.Response:
        """POST the webhook like Zoho's workflow rule. form=True sends JSONString=<json> urlencoded; the
        signature is always over the exact bytes sent. `signature` overrides it (to test rejection)."""
        payload = self.webhook_body(salesorder_id)
        if form:
            body = urlencode({"JSONString": payload.decode("utf-8")}).encode("ascii")
            content_type = "application/x-www-form-urlencoded;charset=UTF-8"
        else:
            body, content_type = payload, "application/json;charset=UTF-8"
        if signature is None:
            signature = self.sign(body, secret)
        sent_headers = {"Content-Type": content_type, "X-Zoho-Webhook-Signature": signature,
                        **(headers or {})}
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(url, content=body, headers=sent_headers)

