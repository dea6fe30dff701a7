"""Ops endpoints owned by fulfilment: cancelling a shipment by hand (the dashboard's button), with the
same rules as a void from Zoho (app/fulfilment/cancel.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.fulfilment.cancel import cancel_shipment
from app.integrations.http import UpstreamError
from app.ops.auth import OpsAuth
from app.services import Services

router = APIRouter()


class CancelIn(BaseModel):
    reason: str = "cancelled by ops"
    actor: str = "ops"


@router.post("/ops/shipments/{salesorder_id}/cancel")
async def cancel(salesorder_id: str, body: CancelIn, request: Request, _: OpsAuth) -> JSONResponse:
    svc: Services = request.app.state.services
    try:
        outcome = await cancel_shipment(svc, salesorder_id, reason=body.reason, actor=body.actor)
    except UpstreamError as exc:  # Shiprocket or Zoho unreachable, or the order is busy: try again
        return JSONResponse({"salesorder_id": salesorder_id, "error": str(exc)}, status_code=503)
    status = 404 if outcome == "no_shipment" else 200
    return JSONResponse({"salesorder_id": salesorder_id, "outcome": outcome}, status_code=status)
