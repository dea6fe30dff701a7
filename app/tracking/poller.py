"""Missed webhooks: a periodic job re-reads tracking (`POST /courier/track/awbs`, 50 AWBs a call) for
parcels not yet final that nobody has heard of for TRACKING_POLL_AGE_SECONDS, booked within the last
TRACKING_LOOKBACK_DAYS, and applies what it finds through the same path as the webhook. It is also the
safety net for work a crashed job left behind (events stored but not applied, parcels not settled)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update

from app.integrations.http import UpstreamError
from app.models import Shipment
from app.services import Services
from app.tracking.models import CustomerReturn, TrackingEvent
from app.tracking.parcels import PARCEL_MODELS, ParcelRef, ref_of
from app.tracking.payload import tracking_update
from app.tracking.service import ingest, process

log = logging.getLogger("shipbridge.tracking.poller")

BATCH = 50  # Shiprocket's limit per /courier/track/awbs call
MAX_PER_RUN = 1000
LEFTOVER_AGE = timedelta(seconds=60)


@dataclass
class PollResult:
    polled: int = 0
    answered: int = 0
    resumed: int = 0
    failed_batches: int = 0


async def poll_tracking(svc: Services, now: datetime | None = None) -> PollResult:
    now = now or datetime.now(UTC)
    result = PollResult()
    due = await _due(svc, now)
    for start in range(0, len(due), BATCH):
        batch = due[start:start + BATCH]
        try:
            answer = await svc.aggregator.track([ref.awb for ref in batch])
        except UpstreamError as exc:
            log.warning("tracking poll of %d AWBs failed: %s", len(batch), exc)
            result.failed_batches += 1
            continue
        await _touch(svc, batch, now)
        result.polled += len(batch)
        for ref in batch:
            found = tracking_update(ref.awb, answer.get(ref.awb))
            if found is None:
                continue
            try:
                event_id = await ingest(svc, ref, found, source="poll")
                await process(svc, ref, wait_for=event_id)
            except UpstreamError as exc:  # left unsettled: the next run (or the job's retry) finishes it
                log.warning("applying polled tracking for %s failed: %s", ref.awb, exc)
            result.answered += 1
    for ref in await _leftovers(svc, now):
        try:
            await process(svc, ref)
            result.resumed += 1
        except UpstreamError as exc:
            log.warning("resuming tracking for %s failed: %s", ref.awb, exc)
    if result != PollResult():
        log.info("tracking poll: %s", result)
    return result


async def _due(svc: Services, now: datetime) -> list[ParcelRef]:
    stale = now - timedelta(seconds=svc.settings.TRACKING_POLL_AGE_SECONDS)
    since = now - timedelta(days=svc.settings.TRACKING_LOOKBACK_DAYS)
    refs: list[ParcelRef] = []
    async with svc.sessionmaker() as session:
        for model in PARCEL_MODELS:
            heard = func.coalesce(model.last_tracking_at, model.created_at)
            rows = (await session.execute(select(model).where(
                model.awb.is_not(None), model.tracking_final.is_(False), model.created_at >= since, heard < stale)
                .order_by(heard).limit(MAX_PER_RUN))).scalars().all()
            refs += [ref_of(row) for row in rows]
    return refs


async def _touch(svc: Services, batch: list[ParcelRef], now: datetime) -> None:
    async with svc.sessionmaker.begin() as session:
        for model in PARCEL_MODELS:
            ids = [ref.id for ref in batch if ref.model is model]
            if ids:
                await session.execute(update(model).where(model.id.in_(ids)).values(last_tracking_at=now))


async def _leftovers(svc: Services, now: datetime) -> list[ParcelRef]:
    cutoff = now - LEFTOVER_AGE
    refs: dict[str, ParcelRef] = {}
    async with svc.sessionmaker() as session:
        for model, kind in ((Shipment, "shipment"), (CustomerReturn, "return")):
            pending = select(TrackingEvent.parcel_id).where(
                TrackingEvent.parcel == kind, TrackingEvent.applied.is_(False), TrackingEvent.received_at < cutoff)
            rows = (await session.execute(select(model).where(
                model.awb.is_not(None),
                or_(model.id.in_(pending), model.tracking_settled.is_(False) & (model.updated_at < cutoff)))
                .limit(MAX_PER_RUN))).scalars().all()
            refs.update({ref.subject: ref for ref in map(ref_of, rows)})
    return list(refs.values())
