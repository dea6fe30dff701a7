"""Ops endpoints owned by fulfilment: cancelling a shipment by hand, with the same rules as a void from
Zoho (app/fulfilment/cancel.py), checked and recorded like every other ops action (app/ops/actions.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.errors import UpstreamUnavailable
from app.fulfilment.cancel import cancel_shipment
from app.integrations.http import UpstreamError
from app.integrations.zoho.webhooks import WORK_STATUSES, salesorder_status, zoho_dedupe_key, zoho_salesorder
from app.models import InboxState
from app.parsing import Malformed
from app.services import Services
from app.web.auth import OperatorDep, check_csrf
from app.web.inbound import Delivery
from app.web.outcome import Outcome, record
from app.web.validation import SalesorderId

router = APIRouter()


class CancelIn(BaseModel):
    reason: str = "cancelled by ops"
    actor: str = "ops"  # who asked, as the caller names them; recorded beside the authenticated operator
    csrf: str = ""


class CancelAnswer(BaseModel):
    salesorder_id: str
    outcome: str  # cancelled | already_cancelled | no_shipment (404) | ...


@router.post("/ops/shipments/{salesorder_id}/cancel", response_model=CancelAnswer)
async def cancel(salesorder_id: SalesorderId, body: CancelIn, request: Request,
                 operator: OperatorDep) -> JSONResponse:
    check_csrf(request, operator, body.csrf)
    svc: Services = request.app.state.services
    actor = f"{operator.actor}:{body.actor[:60]}"
    try:
        outcome = await cancel_shipment(svc, salesorder_id, reason=body.reason[:500], actor=actor)
    except UpstreamError as exc:  # Shiprocket or Zoho unreachable, or the order is busy: try again
        raise UpstreamUnavailable(str(exc), retryable=True, detail={"salesorder_id": salesorder_id}) from exc
    status = 404 if outcome == "no_shipment" else 200
    await record(svc.sessionmaker, actor=actor, action="cancel", target=f"order:{salesorder_id}",
                 params={"reason": body.reason[:500]},
                 result=Outcome("noop" if outcome == "already_cancelled" else "done", outcome, status))
    return JSONResponse(CancelAnswer(salesorder_id=salesorder_id, outcome=outcome).model_dump(), status_code=status)


# Zoho Inventory's workflow-rule webhook for sales orders (POST /webhooks/zoho/salesorders, served by
# app.webhooks.ingest): what a delivery is. Confirmed orders become work, and so do voided ones or ones
# back in draft (a shipment may have to be cancelled); other statuses are recorded as ignored, and
# malformed bodies are kept as invalid for inspection.
def classify(raw: bytes, content_type: str) -> Delivery:
    try:
        so = zoho_salesorder(raw, content_type)
    except Malformed as exc:
        return Delivery.invalid(str(exc), raw)
    status = salesorder_status(so)
    if status in WORK_STATUSES:
        return Delivery(InboxState.pending, None, so["salesorder_id"], zoho_dedupe_key(so, raw))
    return Delivery(InboxState.ignored, f"sales order status is {status[:100] or 'missing'}, not confirmed",
                    so["salesorder_id"], zoho_dedupe_key(so, raw))
