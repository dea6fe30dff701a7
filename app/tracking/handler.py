"""The inbox handler for tracking webhooks (registered in app.jobs.HANDLERS). Only Shiprocket pushes
tracking (Shiplee is polled), so the one webhook is Shiprocket's; app.integrations.tracking_push turns
its body into the neutral TrackingUpdate, here and in endpoints.py's classify, and the tracking domain
never reads an aggregator's JSON itself."""

from __future__ import annotations

from app.integrations.tracking_push import parse_tracking_push
from app.models import InboxEvent, InboxState
from app.services import Services
from app.tracking.repository import find_parcel
from app.tracking.service import ingest, outcome, process


async def handle_tracking_event(svc: Services, event: InboxEvent) -> tuple[str, str | None]:
    update = parse_tracking_push(event.body, event.received_at)  # Malformed -> the event is kept as invalid
    async with svc.sessionmaker() as session:
        ref = await find_parcel(session, update.awb)
    if ref is None:
        # Shiprocket's dashboard test (Sample A) lands here too: kept in the inbox, harmless.
        return InboxState.ignored, f"AWB {update.awb} is not a Shipbridge shipment or return ({update.raw_code})"
    event_id = await ingest(svc, ref, update, source="webhook", inbox_event_id=event.id)
    await process(svc, ref, wait_for=event_id)
    what = await outcome(svc, event_id)
    return InboxState.done, f"AWB {update.awb} {update.raw_code} ({update.status.value}): {what}"
