"""HTTP endpoints owned by tracking (its webhook is served by app.webhooks.ingest): behind the ops
token, customer returns and a parcel's tracking history."""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.errors import NotFound, UpstreamUnavailable
from app.integrations.http import UpstreamError
from app.integrations.tracking_push import parse_tracking_push  # the one tracking webhook is Shiprocket's
from app.models import InboxState, Shipment
from app.parsing import Malformed
from app.services import Services
from app.tracking import repository
from app.tracking.models import CustomerReturn, TrackingEvent
from app.tracking.returns import ReturnLine, advance_return, request_return
from app.tracking.schemas import ReturnView, TrackingEventView, TrackingHistory
from app.web.auth import OpsAuth
from app.web.inbound import Delivery
from app.web.validation import Awb, RowId

router = APIRouter()


ZOHO_ID = r"^[0-9]{1,40}$"  # Zoho ids are digit strings; anything else (NUL bytes included) is a 422


class ReturnLineIn(BaseModel):
    line_item_id: str = Field(pattern=ZOHO_ID)
    quantity: Decimal = Field(gt=0, le=Decimal(1_000_000), allow_inf_nan=False)  # 1e400 is a 422, not a 500


class ReturnIn(BaseModel):
    salesorder_id: str = Field(pattern=ZOHO_ID)
    lines: list[ReturnLineIn] | None = None  # omitted: every line, in full
    reason: str = Field("", max_length=500, pattern=r"^[^\x00]*$")


def return_view(ret: CustomerReturn) -> ReturnView:
    return ReturnView(return_id=ret.id, salesorder_id=ret.salesorder_id, salesorder_number=ret.salesorder_number,
                      channel_order_id=ret.channel_order_id, state=ret.state, awb=ret.awb,
                      courier_name=ret.courier_name, sr_order_id=ret.sr_order_id, lines=ret.lines,
                      reason=ret.reason, tracking_status=ret.tracking_status, last_error=ret.last_error)


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def _answer(call: Awaitable[CustomerReturn]) -> ReturnView:
    """A refusal (ReturnRefused) goes to the one DomainError handler as it is."""
    try:
        ret = await call
    except UpstreamError as exc:
        raise UpstreamUnavailable(f"upstream failed: {exc}", retryable=exc.retryable) from exc
    return return_view(ret)


@router.post("/ops/returns", status_code=201)
async def create_return(body: ReturnIn, request: Request, _: OpsAuth) -> ReturnView:
    """Book a customer return of a delivered order (all lines, or the chosen ones)."""
    lines = [ReturnLine(line.line_item_id, line.quantity) for line in body.lines] if body.lines else None
    return await _answer(request_return(_services(request), body.salesorder_id, lines, body.reason))


@router.post("/ops/returns/{return_id}/retry")
async def retry_return(return_id: RowId, request: Request, _: OpsAuth) -> ReturnView:
    """Resume a return whose booking or AWB failed."""
    return await _answer(advance_return(_services(request), return_id))


@router.get("/ops/returns/{return_id}")
async def get_return(return_id: RowId, request: Request, _: OpsAuth) -> ReturnView:
    async with _services(request).sessionmaker() as session:
        ret = await repository.customer_return(session, return_id)
    if ret is None:
        raise NotFound(f"no customer return {return_id}")
    return return_view(ret)


@router.get("/ops/tracking/{awb}")
async def tracking_history(awb: Awb, request: Request, _: OpsAuth) -> TrackingHistory:
    """A parcel's status and every tracking event received for it, oldest first, raw codes included."""
    async with _services(request).sessionmaker() as session:
        parcel: Shipment | CustomerReturn | None = await repository.parcel_by_awb(session, awb)
        events: list[TrackingEvent] = await repository.events_of_awb(session, awb)
    if parcel is None:
        raise NotFound(f"unknown AWB {awb}")
    return TrackingHistory(
        awb=awb, salesorder_id=parcel.salesorder_id, is_return=isinstance(parcel, CustomerReturn),
        tracking_status=parcel.tracking_status, label=parcel.zoho_synced_label,
        delivered_at=parcel.delivered_at.isoformat() if parcel.delivered_at else None,
        final=parcel.tracking_final,
        events=[TrackingEventView(
            at=e.event_at.isoformat(), status=e.status, scheme=e.scheme,
            shipment_status_id=e.shipment_status_id, shipment_status=e.shipment_status,
            current_status_id=e.current_status_id, current_status=e.current_status,
            scan=e.scan_activity, scan_code=e.scan_code, scan_location=e.scan_location,
            source=e.source, inbox_event_id=e.inbox_event_id,
            received_at=e.received_at.isoformat(), applied=e.applied, outcome=e.outcome) for e in events])


# Shiprocket's tracking webhook (forward and return shipments alike), POST /webhooks/tracking, served by
# app.webhooks.ingest: what a delivery is.
#
# Shiprocket refuses webhook URLs containing "shiprocket", "kartrocket", "sr" or "kr", so the path is
# neutral. It authenticates with a shared token in `x-api-key` (no signature exists). Every authenticated
# request gets a 200, including the dashboard's test request with an empty or sample body: Shiprocket
# wants nothing else. Deliveries are deduplicated by awb + status id + timestamp and applied by a job
# after the commit; a body we cannot read is kept as `invalid` for a person to look at.
def classify(raw: bytes, content_type: str) -> Delivery:
    try:
        update = parse_tracking_push(raw)
    except Malformed as exc:
        return Delivery.invalid(str(exc), raw)
    return Delivery(InboxState.pending, None, update.awb, update.dedupe_key)
