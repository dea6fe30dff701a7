"""Return Prime simulator, written from the public facts (docs/fidelity.md, "Return Prime"): the
`/return-exchange/v2` list and by-id read behind `x-rp-token`, the `{status, message, data}` envelope,
412 GLOBAL_E2 for an id that is not a 24-hex ObjectId, and request objects in the live shape. Webhook
bodies are `{"request": {...}}` with no signature, as the vendor sends them. Fault switches: FaultBox."""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.faults import FaultBox

PATH = "/return-exchange/v2"
PAGE_SIZE = 10  # the API's default page size is not published; integrators ask for more with `limit`
FLAGS = ("approved", "received", "inspected", "rejected", "archived")


def _flag(status: bool = False, comment: str = "") -> dict[str, Any]:
    return {"status": status, "comment": comment, "created_at": datetime.now(UTC).isoformat() if status else None}


class ReturnPrimeSim:
    """`requests[id]` holds request objects exactly as the API returns them; tests change them with the
    helpers (as a merchant would in the dashboard) and read `calls` [(METHOD, path)]."""

    def __init__(self, token: str = "rp-test-token-0123456789") -> None:
        self.token = token
        self.base_url = ""
        self.faults = FaultBox()
        self.lock = threading.RLock()
        self._numbers = itertools.count(1001)
        self._line_ids = itertools.count(14501234567001)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests: dict[str, dict[str, Any]] = {}
            self.calls: list[tuple[str, str]] = []
            self.faults.reset()

    def create_request(self, order_name: str, lines: list[tuple[str, int, Decimal]], *,
                       request_type: str = "return", approved: bool = False, order_id: int = 5630001234567,
                       reason: str = "Size issue", created_at: datetime | None = None) -> dict[str, Any]:
        """A customer's request on the portal: `lines` are (sku, quantity, price)."""
        request_id = secrets.token_hex(12)
        created = (created_at or datetime.now(UTC)).isoformat()
        request = {
            "id": request_id, "request_number": f"RET{next(self._numbers)}", "request_type": request_type,
            "status": "approved" if approved else "requested", "manual_request": False, "channel": 1,
            "created_at": created, "customer_comment": "",
            **{name: _flag() for name in FLAGS},
            "order": {"id": order_id, "name": order_name, "created_at": created},
            "customer": {"id": 7001, "name": "Priya Sharma", "email": "priya@example.com", "phone": "9876543210"},
            "line_items": [{
                "id": next(self._line_ids), "quantity": quantity, "reason": "Others", "reason_detail": reason,
                "customer_comment": "",
                "original_product": {"title": f"Item {sku}", "variant_title": "", "product_id": 1, "variant_id": 2,
                                     "sku": sku, "price": str(price)},
                "refund": {"status": "pending", "requested_mode": "Original Payment Method"},
                "shipping": [],
            } for sku, quantity, price in lines],
        }
        if approved:
            request["approved"] = _flag(True)
        with self.lock:
            self.requests[request_id] = request
        return copy.deepcopy(request)

    def set_flag(self, request_id: str, name: str, status: bool = True) -> None:
        with self.lock:
            request = self.requests[request_id]
            request[name] = _flag(status)
            if status:
                request["status"] = name

    def set_reverse_awb(self, request_id: str, awb: str, courier: str = "Delhivery Reverse") -> None:
        """Return Prime booked the pickup itself (its own logistics integration): every line carries it."""
        with self.lock:
            for line in self.requests[request_id]["line_items"]:
                line["shipping"] = [{"awb": awb, "shipping_company": courier, "tracking_available": True,
                                     "tracking_url": f"https://track.example/{awb}", "labels": []}]

    def webhook_body(self, request_id: str, topic: str = "request/approved") -> dict[str, Any]:
        with self.lock:
            return {"topic": topic, "request": copy.deepcopy(self.requests[request_id])}

    # --- the API -----------------------------------------------------------------------------------

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        page = max(1, int(query.get("page") or 1))
        limit = max(1, min(100, int(query.get("limit") or PAGE_SIZE)))
        low = date.fromisoformat(query["created_at_min"]) if query.get("created_at_min") else date.min
        high = date.fromisoformat(query["created_at_max"]) if query.get("created_at_max") else date.max
        with self.lock:
            chosen = [r for r in self.requests.values()
                      if low <= datetime.fromisoformat(r["created_at"]).date() <= high]
        chosen.sort(key=lambda r: r["created_at"], reverse=True)  # newest first, as portals list them
        window = chosen[(page - 1) * limit:page * limit]
        return {"status": True, "message": "Requests fetched", "messageCode": "REQUEST_EXCHANGE_S2",
                "data": {"list": copy.deepcopy(window), "hasNextPage": page * limit < len(chosen),
                         "hasPreviousPage": page > 1}}


def create_app(sim: ReturnPrimeSim) -> FastAPI:
    app = FastAPI(title="Return Prime simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.router.redirect_slashes = False
    app.middleware("http")(sim.faults.middleware)

    @app.middleware("http")
    async def authorise(request: Request, call_next: Any) -> Response:
        sim.calls.append((request.method, request.url.path))
        if request.headers.get("x-rp-token") != sim.token:  # no Bearer form is accepted
            return JSONResponse({"status": False, "message": "Unauthorized", "message_code": "GLOBAL_E1"},
                                status_code=401)
        response: Response = await call_next(request)
        return response

    @app.get(PATH)
    async def list_requests(request: Request) -> Response:
        try:
            return JSONResponse(sim._list(dict(request.query_params)))
        except ValueError as exc:
            return JSONResponse({"status": False, "message": f"Invalid query: {exc}", "message_code": "GLOBAL_E2"},
                                status_code=412)

    @app.get(PATH + "/{request_id}")
    async def get_request(request_id: str) -> Response:
        if len(request_id) != 24 or any(c not in "0123456789abcdef" for c in request_id):
            return JSONResponse({"status": False, "message": "Invalid id: id contains an invalid value",
                                 "message_code": "GLOBAL_E2"}, status_code=412)
        with sim.lock:
            found = copy.deepcopy(sim.requests.get(request_id))
        if found is None:
            return JSONResponse({"status": False, "message": "Request not found",
                                 "message_code": "REQUEST_EXCHANGE_E1"}, status_code=404)
        return JSONResponse({"status": True, "message": "Request fetched", "messageCode": "REQUEST_EXCHANGE_S3",
                             "data": {"request": found}})

    return app
