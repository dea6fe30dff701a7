"""FastAPI wiring of the Shiplee simulator under /api, plus the account-level endpoints (login §1, home
§2, warehouses §6a, agreement §8, COD remittance §17a, weight disputes §23a).

Bodies are read by hand so refusals leave in Shiplee's envelope, not FastAPI's. Middleware order: the
call recorder is outermost so requests answered by an injected fault are still recorded; the agreement
gate sits behind the token check, as the seed's auth_middleware.php does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from sandbox import shiplee_orders as ops
from sandbox.server import json_object_body
from sandbox.shiplee import AGREEMENT_FREE

if TYPE_CHECKING:
    from sandbox.shiplee import ShipleeSim


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _reply(reply: ops.Reply) -> Response:
    status, body = reply
    return JSONResponse(_jsonable(body), status_code=status)



def create_app(sim: ShipleeSim) -> FastAPI:
    app = FastAPI(title="Shiplee simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.router.redirect_slashes = False

    @app.middleware("http")
    async def gate(request: Request, call_next: Any) -> Response:
        """Seed §8: token first (401), then the agreement (403 AGREEMENT_REQUIRED) on every protected path."""
        path = request.url.path
        if path == "/api/login":
            response: Response = await call_next(request)
            return response
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        with sim.lock:
            valid = bool(token) and sim.token_valid(token)
            gated = not sim.agreement_accepted and path not in AGREEMENT_FREE
            unverified = not sim.email_verified and path == "/api/agreement"
        if not valid:
            return _reply(ops.error(401, "Unauthorized: missing or invalid token."))
        if unverified:
            return _reply(ops.error(403, "Please verify your email first.", "EMAIL_NOT_VERIFIED"))
        if gated:
            return _reply(ops.error(403, "You must accept the Terms and Conditions before continuing.",
                                    "AGREEMENT_REQUIRED"))
        response = await call_next(request)
        return response

    app.middleware("http")(sim.faults.middleware)

    @app.middleware("http")
    async def record_call(request: Request, call_next: Any) -> Response:
        sim.calls.append((request.method, request.url.path))
        response: Response = await call_next(request)
        return response

    @app.post("/api/login")
    async def login(request: Request) -> Response:
        body = await json_object_body(request)
        with sim.lock:
            if str(body.get("mobile") or "") != sim.mobile or str(body.get("password") or "") != sim.password:
                return _reply(ops.error(401, "Invalid mobile number or password."))
            if sim.account_status != "active":
                return _reply(ops.error(403, f"Your account is {sim.account_status}."))
            token = sim.mint_token()
            sim.login_count += 1
        return _reply((200, {"status": "success", "message": "Login successful", "redirect": "index",
                             "token": token, "access_token": token, "token_type": "Bearer",
                             "expires_in": sim.token_ttl_seconds, "email_verified": sim.email_verified}))

    @app.get("/api/home")
    async def home() -> Response:
        with sim.lock:
            today = sim.clock()
            return _reply((200, {"status": "success", "data": {
                "user": {"fullname": "Shipbridge Test Seller", "mobile": sim.mobile, "email": "seller@shiplee.test",
                         "account_status": sim.account_status, "wallet_balance": sim.wallet},
                "steps": [], "actions": [{"label": "Unprocessable Orders", "value": 0}], "categories": [],
                "pickups": {"today": today.strftime("%d %b %Y"),
                            "tomorrow": (today + timedelta(days=1)).strftime("%d %b %Y"), "has_pickups": False}}}))

    @app.get("/api/warehouse")
    async def warehouses() -> Response:
        with sim.lock:
            return _reply((200, {"status": "success", "total": len(sim.warehouses), "data": list(sim.warehouses)}))

    @app.get("/api/agreement")
    async def agreement() -> Response:
        with sim.lock:
            if sim.agreement_accepted:
                return _reply((200, {"status": "success", "agreement_required": False}))
            return _reply((200, {"status": "success", "agreement_required": True, "data": {
                "id": sim.agreement_id, "title": f"Shiplee Terms and Conditions v{sim.agreement_id - 1}",
                "content": "<p>Full HTML agreement content...</p>"}}))

    @app.post("/api/agreement")
    async def accept_agreement(request: Request) -> Response:
        body = await json_object_body(request)
        with sim.lock:
            if body.get("action") != "accept" or body.get("agreement_id") in (None, ""):
                return _reply(ops.error(422, "Missing agreement_id or unknown action."))
            if str(body["agreement_id"]) != str(sim.agreement_id):
                return _reply(ops.error(404, "Agreement ID is invalid or no longer active."))
            sim.agreement_accepted = True
        return _reply((200, {"status": "success", "message": "Agreement accepted successfully.", "email_sent": True}))

    def handler(fn: Any) -> Any:
        async def route(request: Request) -> Response:
            body = await json_object_body(request)
            with sim.lock:
                return _reply(fn(sim, body))
        return route

    for path, fn in (("/api/rates", ops.rates), ("/api/create_order", ops.create_order),
                     ("/api/book_shipment", ops.book_shipment), ("/api/cancel_orders", ops.cancel_orders),
                     ("/api/cancel_shipments", ops.cancel_shipments), ("/api/get_orders", ops.get_orders),
                     ("/api/search_orders", ops.search_orders)):
        app.add_api_route(path, handler(fn), methods=["POST"])

    @app.get("/api/manifest")
    async def manifest(order_ids: str = "", warehouse_id: str | None = None) -> Response:
        with sim.lock:
            status, body, media = ops.manifest(sim, order_ids, warehouse_id)
        if media == "application/pdf":
            stamp = sim.clock().strftime("%Y%m%d_%H%M%S")
            return Response(body, status_code=status, media_type=media, headers={
                "Content-Disposition": f'attachment; filename="Shiplee_Manifest_{stamp}.pdf"'})
        return _reply((status, body))

    @app.get("/api/cod_remittance")
    async def cod_remittance() -> Response:
        with sim.lock:
            rows = list(sim.remittances)
            remitted = sum((r["total_net_remittance"] for r in rows if r["remittance_status"] == "completed"),
                           Decimal(0))
            pending = sum((r["total_net_remittance"] for r in rows if r["remittance_status"] == "pending"), Decimal(0))
            last = max((r["remittance_date"] for r in rows if r["remittance_status"] == "completed"), default=None)
            open_disputes = sum(1 for d in sim.disputes if d["status"] == "DISPUTE")
            return _reply((200, {"status": "success", "data": {
                "summary": {"remitted_till_date": remitted, "total_pending": pending, "total_adjustment": 0,
                            "total_cancelled": 0, "last_remittance_date": last},
                "current_plan": {"id": 4, "name": "Standard D+7"},
                "plans": [{"id": 3, "plan_name": "Express D+3", "tat_days": 3, "fee_percentage": 1.5,
                           "is_current": False},
                          {"id": 4, "plan_name": "Standard D+7", "tat_days": 7, "fee_percentage": 0.5,
                           "is_current": True}],
                "wallet_eligible": open_disputes == 0, "open_disputes": open_disputes, "remittances": rows}}))

    @app.get("/api/weight_disputes")
    async def weight_disputes(start_date: str = "", end_date: str = "") -> Response:
        """Seed §23a: open disputes older than 4 days are closed (auto_accepted) on every request."""
        with sim.lock:
            now = sim.clock()
            start = ops.parse_day(start_date, now.date() - timedelta(days=7))
            end = ops.parse_day(end_date, now.date())
            if start is None or end is None:
                return _reply(ops.error(422, "Dates must be YYYY-MM-DD."))
            rows = []
            for d in sim.disputes:
                if d["status"] == "DISPUTE" and now - d["created_at"] > timedelta(days=4):
                    d.update(status="CLOSED", auto_accepted=True)
                if start <= d["created_at"].date() <= end:
                    rows.append({**d, "created_at": d["created_at"].strftime("%Y-%m-%d %H:%M:%S")})
            return _reply((200, {"status": "success", "filter": {"start": start.isoformat(), "end": end.isoformat()},
                                 "total": len(rows), "disputes": rows}))

    return app
