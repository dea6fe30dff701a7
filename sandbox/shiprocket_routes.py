"""FastAPI wiring of the Shiprocket simulator under /v1/external.

Bodies are read by hand rather than through pydantic models so that every error leaves in Shiprocket's
own envelopes (422 "Oops! Invalid Data.", 401 {"message":"Unauthenticated."}, 404 "404 Not Found")
instead of FastAPI's. Middleware order matters: the call recorder is outermost so that requests
answered by an injected fault are still recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from sandbox import shiprocket_awb as awb_ops
from sandbox import shiprocket_dispatch as dispatch_ops
from sandbox import shiprocket_ndr as ndr_ops
from sandbox import shiprocket_ops as ops
from sandbox.server import json_object_body

if TYPE_CHECKING:
    from sandbox.shiprocket import ShiprocketSim

PREFIX = "/v1/external"


class _Unauthenticated(Exception):
    pass


def _reply(reply: ops.Reply) -> Response:
    status, body = reply
    if body is None:
        return Response(status_code=status)
    return JSONResponse(body, status_code=status)



def create_app(sim: ShiprocketSim) -> FastAPI:
    app = FastAPI(title="Shiprocket simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.router.redirect_slashes = False
    app.middleware("http")(sim.faults.middleware)

    @app.middleware("http")
    async def record_call(request: Request, call_next: Any) -> Response:
        path = request.url.path
        sim.calls.append((request.method, path[len(PREFIX):] if path.startswith(PREFIX) else path))
        response: Response = await call_next(request)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        text = "404 Not Found" if exc.status_code == 404 else f"{exc.status_code} {exc.detail}"
        return JSONResponse({"message": text, "status_code": exc.status_code}, status_code=exc.status_code)

    @app.exception_handler(_Unauthenticated)
    async def unauthenticated(_: Request, __: _Unauthenticated) -> Response:
        return JSONResponse({"message": "Unauthenticated."}, status_code=401)

    def bearer(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not sim.tokens.valid(token.strip()):
            raise _Unauthenticated()

    public = APIRouter(prefix=PREFIX)
    api = APIRouter(prefix=PREFIX, dependencies=[Depends(bearer)])

    @public.post("/auth/login")
    async def login(request: Request) -> Response:
        return _reply(ops.login(sim, await json_object_body(request)))

    @api.post("/auth/logout")
    async def logout() -> Response:
        return JSONResponse({})

    @api.get("/courier/serviceability/")
    @api.get("/courier/serviceability")
    async def serviceability(request: Request) -> Response:
        return _reply(ops.serviceability(sim, dict(request.query_params)))

    @api.post("/orders/create/adhoc")
    async def create_adhoc(request: Request) -> Response:
        return _reply(ops.create_adhoc(sim, await json_object_body(request)))

    @api.post("/orders/create/return")
    async def create_return(request: Request) -> Response:
        return _reply(ops.create_return(sim, await json_object_body(request)))

    @api.get("/settings/company/pickup")
    async def pickup_locations() -> Response:
        return _reply(ops.pickup_locations(sim))

    @api.post("/orders/cancel")
    async def cancel(request: Request) -> Response:
        return _reply(ops.cancel(sim, await json_object_body(request)))

    @api.get("/orders")
    async def list_orders(request: Request) -> Response:
        return _reply(ops.list_orders(sim, dict(request.query_params)))

    @api.get("/orders/show/{order_id}")
    async def show_order(order_id: str) -> Response:
        return _reply(ops.show_order(sim, order_id))

    @api.post("/courier/assign/awb")
    async def assign_awb(request: Request) -> Response:
        return _reply(awb_ops.assign_awb(sim, await json_object_body(request)))

    @api.post("/courier/generate/pickup")
    async def generate_pickup(request: Request) -> Response:
        return _reply(awb_ops.generate_pickup(sim, await json_object_body(request)))

    @api.post("/courier/generate/label")
    async def generate_label(request: Request) -> Response:
        return _reply(dispatch_ops.generate_label(sim, await json_object_body(request)))

    @api.post("/manifests/generate")
    async def generate_manifest(request: Request) -> Response:
        return _reply(dispatch_ops.generate_manifest(sim, await json_object_body(request)))

    @api.post("/manifests/print")
    async def print_manifest(request: Request) -> Response:
        return _reply(dispatch_ops.print_manifest(sim, await json_object_body(request)))

    @api.post("/shipments/create/forward-shipment")
    async def forward_shipment(request: Request) -> Response:
        return _reply(dispatch_ops.forward_shipment(sim, await json_object_body(request)))

    @api.get("/courier/track/awb/{awb}")
    async def track_awb(awb: str) -> Response:
        return _reply(ops.track_awb(sim, awb))

    @api.post("/courier/track/awbs")
    async def track_awbs(request: Request) -> Response:
        return _reply(ops.track_awbs(sim, await json_object_body(request)))

    @api.get("/courier/track/shipment/{shipment_id}")
    async def track_shipment(shipment_id: str) -> Response:
        return _reply(ops.track_shipment(sim, shipment_id))

    @api.get("/courier/track")
    async def track_order(request: Request) -> Response:
        return _reply(ops.track_order(sim, dict(request.query_params)))

    @api.post("/ndr/{awb}/action")
    async def ndr_action(awb: str, request: Request) -> Response:
        return _reply(ndr_ops.ndr_action(sim, awb, await json_object_body(request)))

    @api.get("/account/details/remittance")
    async def remittances(request: Request) -> Response:
        return _reply(ops.remittances(sim, dict(request.query_params)))

    app.include_router(public)
    app.include_router(api)
    return app
