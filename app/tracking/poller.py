"""Missed webhooks: a periodic job re-reads tracking (`POST /courier/track/awbs`, TRACK_BATCH AWBs a
call) for parcels not yet final that nobody has heard of for TRACKING_POLL_AGE_SECONDS, booked within the
last TRACKING_LOOKBACK_DAYS, and applies what it finds through the same path as the webhook. Work a
crashed job left behind is not its business: the sweeper's resumer finishes it (service.resume_tracking),
so recovery does not depend on this poller being switched on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from app.integrations.http import UpstreamError
from app.integrations.shiprocket.client import TRACK_BATCH
from app.services import Services
from app.tracking.parcels import PARCEL_MODELS, ParcelRef, ref_of
from app.tracking.payload import tracking_update
from app.tracking.service import ingest, process

log = logging.getLogger("shipbridge.tracking.poller")

MAX_PER_RUN = 1000


@dataclass
class PollResult:
    polled: int = 0  # AWBs asked about
    answered: int = 0  # AWBs whose answer was stored and applied
    failed: int = 0  # answers stored but not applied (the sweeper finishes them)
    failed_batches: int = 0


async def poll_tracking(svc: Services, now: datetime | None = None) -> PollResult:
    now = now or datetime.now(UTC)
    result = PollResult()
    due = await _due(svc, now)
    for start in range(0, len(due), TRACK_BATCH):
        batch = due[start:start + TRACK_BATCH]
        try:
            answer = await svc.aggregator.track([ref.awb for ref in batch])
        except UpstreamError as exc:
            log.warning("tracking poll of %d AWBs failed: %s", len(batch), exc)
            result.failed_batches += 1
            continue
        await _touch(svc, batch, now)  # exactly the AWBs just asked about
        result.polled += len(batch)
        for ref in batch:
            found = tracking_update(ref.awb, answer.get(ref.awb))
            if found is None:
                continue
            try:
                event_id = await ingest(svc, ref, found, source="poll")
                await process(svc, ref, wait_for=event_id)
            except UpstreamError as exc:  # stored, left unapplied or unsettled: the sweeper finishes it
                log.warning("applying polled tracking for %s failed: %s", ref.awb, exc)
                result.failed += 1
            else:
                result.answered += 1
    if result != PollResult():
        log.info("tracking poll: %s", result)
    return result


async def _due(svc: Services, now: datetime) -> list[ParcelRef]:
    stale = now - timedelta(seconds=svc.settings.TRACKING_POLL_AGE_SECONDS)
    since = now - timedelta(days=svc.settings.TRACKING_LOOKBACK_DAYS)
    refs: list[ParcelRef] = []
    async with svc.sessionmaker() as session:
        for model in PARCEL_MODELS.values():
            heard = func.coalesce(model.last_tracking_at, model.created_at)
            rows = (await session.execute(select(model).where(
                model.awb.is_not(None), model.tracking_final.is_(False), model.created_at >= since, heard < stale)
                .order_by(heard).limit(MAX_PER_RUN))).scalars().all()
            refs += [ref_of(row) for row in rows]
    return refs


async def _touch(svc: Services, batch: list[ParcelRef], now: datetime) -> None:
    async with svc.sessionmaker.begin() as session:
        for kind, model in PARCEL_MODELS.items():
            ids = [ref.id for ref in batch if ref.kind == kind]
            if ids:
                await session.execute(update(model).where(model.id.in_(ids)).values(last_tracking_at=now))
