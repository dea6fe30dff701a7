"""Applying tracking updates: every update (webhook or poll) is stored as a tracking event, then folded
into its parcel's status under the forward-only rules, then the parcel is settled (its side effects
done). One job at a time per sales order holds the order lock and applies every pending event of the
parcel, its own and any that arrive meanwhile; a job that finds the lock held waits for it (the holder
may well have applied its event by then), so no event is left behind. Work a crashed job left behind is
finished by `resume_tracking`, which the sweeper runs (app.jobs.RESUMERS)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from app.integrations.http import UpstreamError
from app.integrations.shipping import TrackingUpdate
from app.locks import LOCK_WAIT_SECONDS, OrderBusy, advisory_lock, order_lock_name
from app.models import Shipment, ShipmentLog
from app.services import Services
from app.tracking import repository
from app.tracking.models import TrackingEvent
from app.tracking.parcels import FORWARD, ParcelRef
from app.tracking.settle import settle
from app.tracking.statuses import FINAL, RTO_BRANCH, TrackingStatus, fold, parse_status

log = logging.getLogger("shipbridge.tracking")

RESUME_LIMIT = 500  # parcels per kind per sweep; the next sweep takes the rest


async def ingest(svc: Services, ref: ParcelRef, update: TrackingUpdate, *, source: str,
                 inbox_event_id: int | None = None) -> int:
    """Store the update as a tracking event (once per awb + status + timestamp); returns its id."""
    values = dict(
        awb=ref.awb, salesorder_id=ref.salesorder_id, parcel=ref.kind, parcel_id=ref.id, source=source,
        inbox_event_id=inbox_event_id, dedupe_key=update.dedupe_key[:200], status=update.status.value,
        scheme=update.scheme, shipment_status_id=update.shipment_status_id,
        shipment_status=update.shipment_status[:100], current_status_id=update.current_status_id,
        current_status=update.current_status[:100], scan_code=update.scan_code[:60],
        scan_activity=update.scan_activity, scan_location=update.scan_location[:200], is_return=update.is_return,
        event_at=update.event_at, received_at=datetime.now(UTC), applied=False)
    async with svc.sessionmaker.begin() as session:
        event_id = await repository.store_event(session, values)
    assert event_id is not None
    return int(event_id)


async def process(svc: Services, ref: ParcelRef, wait_for: int | None = None) -> None:
    """Fold pending events and settle the parcel. With `wait_for` (the event this job stored), wait up to
    LOCK_WAIT_SECONDS for the order lock and raise OrderBusy if that event is still unapplied then;
    without it, a single try: whoever holds the lock does the work."""
    wait = LOCK_WAIT_SECONDS if wait_for is not None else 0.0
    async with advisory_lock(svc.engine, order_lock_name(ref.salesorder_id), wait=wait) as held:
        if held:
            await _fold(svc, ref)
            await settle(svc, ref)
            while await _fold(svc, ref):  # arrived while we were settling
                await settle(svc, ref)
            return
    if wait_for is not None and not await is_applied(svc, wait_for):
        raise OrderBusy(ref.salesorder_id)


async def resume_tracking(svc: Services, stale: datetime) -> int:
    """The sweeper's resumer (app.jobs.RESUMERS["tracking"]): finish what a crashed or given-up job left
    behind before `stale`: events stored but never applied, parcels whose side effects are not all done.
    Returns how many parcels it took up; one that fails again is logged and taken up by the next sweep."""
    refs = await _unfinished(svc, stale)
    for ref in refs:
        try:
            await process(svc, ref)
        except UpstreamError as exc:
            log.warning("resuming tracking of %s (AWB %s) failed: %s", ref.subject, ref.awb, exc)
    return len(refs)


async def _unfinished(svc: Services, stale: datetime) -> list[ParcelRef]:
    async with svc.sessionmaker() as session:
        return await repository.unfinished_parcels(session, stale, RESUME_LIMIT)


async def outcome(svc: Services, event_id: int) -> str:
    async with svc.sessionmaker() as session:
        event = await repository.event(session, event_id)
    return (event.outcome if event is not None else None) or "stored; applied by the job holding the order"


async def is_applied(svc: Services, event_id: int) -> bool:
    async with svc.sessionmaker() as session:
        return await repository.event_applied(session, event_id)


async def _fold(svc: Services, ref: ParcelRef) -> int:
    """Apply pending events in event-time order; returns how many were applied (0: nothing pending)."""
    now = datetime.now(UTC)
    async with svc.sessionmaker.begin() as session:
        parcel = await repository.load_parcel(session, ref, for_update=True)
        if parcel is None:
            return 0
        events = await repository.pending_events(session, ref)
        if not events:
            return 0
        before = parse_status(parcel.tracking_status)
        status, last_at, outcomes = fold(before, parcel.last_event_at, [
            (parse_status(e.status) or TrackingStatus.unknown, e.event_at, _raw(e)) for e in events])
        reached = [(parse_status(e.status), e.event_at) for e, (moved, _) in zip(events, outcomes, strict=True)
                   if moved]
        for event, (_, text) in zip(events, outcomes, strict=True):
            event.outcome, event.applied = text, True
        parcel.last_tracking_at = max(parcel.last_tracking_at or now, now)  # the poller may have stamped it
        if status == before or status is None:
            return len(events)
        parcel.tracking_status = status.value
        parcel.last_event_at = last_at
        parcel.tracking_final = status in FINAL
        parcel.tracking_settled = False
        for reached_status, at in reached:
            if reached_status == TrackingStatus.delivered and parcel.delivered_at is None:
                parcel.delivered_at = at
            if isinstance(parcel, Shipment) and reached_status in RTO_BRANCH and parcel.rto_initiated_at is None:
                parcel.rto_initiated_at = at
        shipment_id = parcel.id if ref.kind == FORWARD else getattr(parcel, "shipment_id", None)
        if shipment_id is not None:
            session.add(ShipmentLog(shipment_id=shipment_id, step="tracking",
                                    detail=_log_detail(ref, parcel, before, status)))
    log.info("%s %s: %s -> %s", ref.subject, ref.awb, before.value if before else "none", status.value)
    return len(events)


def _raw(event: TrackingEvent) -> str:
    if event.shipment_status_id is not None:
        return f"shipment:{event.shipment_status_id}"
    if event.current_status_id is not None:
        return f"order:{event.current_status_id}"
    return event.shipment_status or event.current_status or "none"


def _log_detail(ref: ParcelRef, parcel: object, before: TrackingStatus | None, status: TrackingStatus) -> str:
    what = f"{'return ' if ref.is_return else ''}AWB {ref.awb}: {before.value if before else 'none'} -> {status.value}"
    if status == TrackingStatus.delivered and isinstance(parcel, Shipment):
        if parcel.payment_method == "COD":
            return f"{what} (COD Rs {parcel.declared_value}: awaiting remittance)"
        return f"{what} (prepaid: complete)"
    return what
