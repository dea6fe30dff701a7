"""HTTP face of the Zoho simulator: the accounts token endpoint plus Inventory v1 and Books v3 routes.

Every API route goes through one wrapper that behaves like Zoho's front door: the access token
must arrive as `Authorization: Zoho-oauthtoken <token>` (never as a query parameter), the
`organization_id` query parameter must name the simulated org, bodies are JSON or the legacy
`JSONString=<json>` form field, and every reply carries `code` and `message`. Middleware order
(outermost first): call recording -> FaultBox -> limits (zoho_quota.py) -> route, so injected faults
and refusals are recorded too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.zoho_common import E_BAD_JSON, E_INVALID_URL, ZohoError, paginate, text_match, wire

if TYPE_CHECKING:
    from sandbox.zoho import ZohoSim

INVENTORY, BOOKS = "/inventory/v1", "/books/v3"
BOTH = (INVENTORY, BOOKS)


@dataclass
class Call:
    """What a handler sees: path params, query params (last value wins), parsed JSON body."""

    path: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]


Handler = Callable[[Call], tuple[int, str, dict[str, Any]]]


async def read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    ctype = request.headers.get("content-type", "").lower()
    text: Any
    if "application/x-www-form-urlencoded" in ctype:
        text = dict(parse_qsl(raw.decode("utf-8", "replace"))).get("JSONString")
    elif "multipart/form-data" in ctype:
        text = (await request.form()).get("JSONString")
    else:
        text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ZohoError(E_BAD_JSON, "JSON is not well formed")
    return body


# List-row fields as the OAS list responses show them (salesreturns.yml, inventoryadjustments.yml).
SALESRETURN_ROW = ("salesreturn_id", "salesreturn_number", "date", "salesorder_id", "salesorder_number",
                   "custom_fields", "customer_id", "customer_name", "salesreturn_status", "receive_status",
                   "refund_status", "refunded_amount")
ADJUSTMENT_ROW = ("inventory_adjustment_id", "date", "reason", "reason_id", "description", "reference_number",
                  "adjustment_type", "total", "custom_fields")


def _salesreturn_row(sr: dict[str, Any]) -> dict[str, Any]:
    row = {k: sr.get(k) for k in SALESRETURN_ROW}
    row["quantity"] = sum(line["quantity"] for line in sr["line_items"])
    return row


def create_app(sim: ZohoSim) -> FastAPI:
    app = FastAPI(title="Zoho simulator", docs_url=None, redoc_url=None, openapi_url=None)

    def route(method: str, path: str,
              prefixes: tuple[str, ...] = (INVENTORY,)) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                try:
                    sim._authorize(request)
                    body = await read_body(request) if request.method in ("POST", "PUT") else {}
                    call = Call(dict(request.path_params), dict(request.query_params), body)
                    with sim._lock:
                        status, message, payload = handler(call)
                        content = {"code": 0, "message": message, **wire(payload)}
                    return JSONResponse(content, status_code=status)
                except ZohoError as err:
                    return JSONResponse(err.body(), status_code=err.status)

            for prefix in prefixes:
                app.add_api_route(prefix + path, endpoint, methods=[method],
                                  name=f"{handler.__name__}{prefix}")
            return handler
        return register

    # ------------------------------------------------------------------ accounts server
    @app.post("/oauth/v2/token")
    async def token(request: Request) -> JSONResponse:
        params = dict(request.query_params)
        raw = await request.body()
        ctype = request.headers.get("content-type", "").lower()
        if raw and "application/x-www-form-urlencoded" in ctype:
            params.update(parse_qsl(raw.decode("utf-8", "replace")))
        elif raw and "multipart/form-data" in ctype:
            params.update({k: str(v) for k, v in (await request.form()).items()})
        status, payload = sim._grant_token(params, str(request.base_url).rstrip("/"))
        return JSONResponse(payload, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def unknown_url(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"code": E_INVALID_URL, "message": "Invalid URL Passed"},
                            status_code=exc.status_code)

    # ------------------------------------------------------------------ organisation / contacts / items
    @route("GET", "/organizations", BOTH)
    def organizations(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"organizations": [dict(sim.organization)]}

    @route("GET", "/contacts/{contact_id}", BOTH)
    def get_contact(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"contact": sim._contact(c.path["contact_id"], status=404)}

    @route("GET", "/items")
    def list_items(c: Call) -> tuple[int, str, dict]:
        rows, context = sim._list_items(c.query)
        return 200, "success", {"items": rows, "page_context": context}

    @route("GET", "/items/{item_id}")
    def get_item(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"item": sim._item_view(sim._item(c.path["item_id"]))}

    # ------------------------------------------------------------------ sales orders
    @route("POST", "/salesorders")
    def create_salesorder(c: Call) -> tuple[int, str, dict]:
        so = sim._create_salesorder_api(c.body, c.query)
        return 201, "Sales Order has been created.", {"salesorder": sim._so_view(so)}

    @route("GET", "/salesorders")
    def list_salesorders(c: Call) -> tuple[int, str, dict]:
        rows, context = sim._list_salesorders(c.query)
        return 200, "success", {"salesorders": rows, "page_context": context}

    @route("GET", "/salesorders/{salesorder_id}")
    def get_salesorder(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"salesorder": sim._so_view(sim._so(c.path["salesorder_id"]))}

    @route("PUT", "/salesorders/{salesorder_id}")
    def update_salesorder(c: Call) -> tuple[int, str, dict]:
        so = sim._update_salesorder(c.path["salesorder_id"], c.body)
        return 200, "Sales Order has been updated.", {"salesorder": sim._so_view(so)}

    @route("POST", "/salesorders/{salesorder_id}/status/confirmed")
    def confirm_salesorder(c: Call) -> tuple[int, str, dict]:
        sim._set_so_status(c.path["salesorder_id"], "confirmed")
        return 200, "Sales order status has been changed to 'Confirmed'.", {}

    @route("POST", "/salesorders/{salesorder_id}/status/void")
    def void_salesorder(c: Call) -> tuple[int, str, dict]:
        sim._set_so_status(c.path["salesorder_id"], "void")
        return 200, "The status of the Sales Order has been changed to void.", {}

    # ------------------------------------------------------------------ packages and shipments
    @route("POST", "/packages")
    def create_package(c: Call) -> tuple[int, str, dict]:
        pkg = sim._create_package(c.query.get("salesorder_id"), c.body)
        message = "Package created successfully. It's now time to ship!"
        return 201, message, {"package": sim._package_view(pkg)}

    @route("GET", "/packages/{package_id}")
    def get_package(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"package": sim._package_view(sim._package(c.path["package_id"]))}

    @route("POST", "/shipmentorders")
    def create_shipment(c: Call) -> tuple[int, str, dict]:
        ids = [p.strip() for p in c.query.get("package_ids", "").split(",") if p.strip()]
        shipment = sim._create_shipment(c.query.get("salesorder_id"), ids, c.body)
        return 201, "Shipment created successfully.", {"shipment_order": shipment}

    @route("GET", "/shipmentorders/{shipment_id}")
    def get_shipment(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"shipment_order": sim._shipment(c.path["shipment_id"])}

    @route("POST", "/shipmentorders/{shipment_id}/status/delivered")
    def deliver_shipment(c: Call) -> tuple[int, str, dict]:
        sim._mark_delivered(c.path["shipment_id"])
        return 200, "The Shipment Order has been marked as Delivered.", {}

    # ------------------------------------------------------------------ returns and adjustments
    @route("POST", "/salesreturns")
    def create_salesreturn(c: Call) -> tuple[int, str, dict]:
        sr = sim._create_salesreturn(c.query.get("salesorder_id"), c.body)
        return 201, "Return created successfully", {"salesreturn": sr}

    @route("GET", "/salesreturns")
    def list_salesreturns(c: Call) -> tuple[int, str, dict]:
        # The OAS documents only page/per_page, and rows with only the fields it lists (no `reason`, no
        # lines): any other filter is ignored here, so a client must page and look at details. Newest first.
        page, context = paginate(list(reversed(sim.salesreturns.values())), c.query, report_name="Sales Returns")
        return 200, "success", {"salesreturns": [_salesreturn_row(sr) for sr in page], "page_context": context}

    @route("GET", "/salesreturns/{salesreturn_id}")
    def get_salesreturn(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"salesreturn": sim._salesreturn(c.path["salesreturn_id"])}

    @route("POST", "/salesreturnreceives")
    def create_receive(c: Call) -> tuple[int, str, dict]:
        receive = sim._create_receive(c.query.get("salesreturn_id"), c.body)
        return 201, "Sales Return Receive Created Successfully", {"salesreturn": receive}

    @route("POST", "/inventoryadjustments")
    def create_adjustment(c: Call) -> tuple[int, str, dict]:
        adjustment = sim._create_adjustment(c.body)
        return 201, "Inventory Adjustment has been added", {"inventory_adjustment": adjustment}

    @route("GET", "/inventoryadjustments")
    def list_adjustments(c: Call) -> tuple[int, str, dict]:
        # Only page/per_page are documented (undocumented filters ignored); rows as the OAS lists them.
        page, context = paginate(list(reversed(sim.adjustments.values())), c.query,
                                 report_name="Inventory Adjustments")
        rows = [{k: a.get(k) for k in ADJUSTMENT_ROW if k in a} for a in page]
        return 200, "success", {"inventory_adjustments": rows, "page_context": context}

    @route("GET", "/inventoryadjustments/{adjustment_id}")
    def get_adjustment(c: Call) -> tuple[int, str, dict]:
        adjustment = sim.adjustments.get(c.path["adjustment_id"])
        if adjustment is None:
            raise ZohoError(1002, "Inventory Adjustment does not exist.", 404)
        return 200, "success", {"inventory_adjustment": adjustment}

    # ------------------------------------------------------------------ invoices (shared with Books)
    @route("GET", "/invoices", BOTH)
    def list_invoices(c: Call) -> tuple[int, str, dict]:
        rows, context = sim._list_invoices(c.query)
        return 200, "success", {"invoices": rows, "page_context": context}

    @route("GET", "/invoices/{invoice_id}", BOTH)
    def get_invoice(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"invoice": sim._invoice(c.path["invoice_id"])}

    @route("POST", "/invoices/fromsalesorder", BOTH)
    def invoice_from_salesorder(c: Call) -> tuple[int, str, dict]:
        so_id = c.query.get("salesorder_id")
        if not so_id:
            raise ZohoError(4, "Invalid value passed for salesorder_id")
        return 201, "The invoice has been created.", {"invoice": sim._invoice_salesorder(so_id)}

    # ------------------------------------------------------------------ customer payments
    @route("POST", "/customerpayments", BOTH)
    def create_payment(c: Call) -> tuple[int, str, dict]:
        return 201, "The payment has been created.", {"payment": sim._create_payment(c.body)}

    # The two specs name the list differently: Books `customer_payments`, Inventory `customerpayments`.
    @route("GET", "/customerpayments", (BOOKS,))
    def list_books_payments(c: Call) -> tuple[int, str, dict]:
        rows, context = sim._list_payments(c.query)
        return 200, "success", {"customer_payments": rows, "page_context": context}

    @route("GET", "/customerpayments", (INVENTORY,))
    def list_inventory_payments(c: Call) -> tuple[int, str, dict]:
        rows, context = sim._list_payments(c.query)
        return 200, "success", {"customerpayments": rows, "page_context": context}

    @route("GET", "/customerpayments/{payment_id}", BOTH)
    def get_payment(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"payment": sim._payment(c.path["payment_id"])}

    # ------------------------------------------------------------------ credit notes
    @route("POST", "/creditnotes", BOTH)
    def create_creditnote(c: Call) -> tuple[int, str, dict]:
        creditnote = sim._create_creditnote(c.body, c.query)
        return 201, "The credit note has been created.", {"creditnote": creditnote}

    @route("GET", "/creditnotes", BOTH)
    def list_creditnotes(c: Call) -> tuple[int, str, dict]:
        rows = [cn for cn in reversed(sim.creditnotes.values())
                if text_match(c.query, "reference_number", cn["reference_number"])
                and (not c.query.get("customer_id") or cn["customer_id"] == c.query["customer_id"])]
        page, context = paginate(rows, c.query, report_name="Credit Notes")
        return 200, "success", {"creditnotes": page, "page_context": context}

    @route("GET", "/creditnotes/{creditnote_id}", BOTH)
    def get_creditnote(c: Call) -> tuple[int, str, dict]:
        return 200, "success", {"creditnote": sim._creditnote(c.path["creditnote_id"])}

    @route("POST", "/creditnotes/{creditnote_id}/invoices", BOTH)
    def apply_creditnote(c: Call) -> tuple[int, str, dict]:
        applied = sim._apply_credits(c.path["creditnote_id"], c.body)
        message = "Credits have been applied to the invoice(s)."
        return 200, message, {"apply_to_invoices": {"invoices": applied}}

    @route("GET", "/creditnotes/{creditnote_id}/invoices", BOTH)
    def credited_invoices(c: Call) -> tuple[int, str, dict]:
        creditnote = sim._creditnote(c.path["creditnote_id"])
        return 200, "success", {"invoices_credited": creditnote["invoices_credited"]}

    # ------------------------------------------------------------------ middleware (last added = outermost)
    app.middleware("http")(sim.quota.middleware)  # inside the faults, so injected latency applies to a 429 too
    app.middleware("http")(sim.faults.middleware)

    @app.middleware("http")
    async def record_calls(request: Request, call_next: Callable[[Request], Any]) -> Response:
        if not request.url.path.startswith("/oauth/"):
            with sim._lock:
                sim.calls.append((request.method, request.url.path))
                sim.call_times.append(time.monotonic())
        response: Response = await call_next(request)
        return response

    return app
