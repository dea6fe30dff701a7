"""Polled tracking: a periodic job asks each parcel's own aggregator (the one that booked it) for the
latest status of parcels not yet final and booked within the last TRACKING_LOOKBACK_DAYS, and applies
what it finds through the same path as the webhook (stored once, folded never backwards, effects once).
An aggregator that pushes tracking (Shiprocket's webhook) is asked only about parcels nobody has heard
of for TRACKING_POLL_AGE_SECONDS: missed webhooks. One that pushes nothing (Shiplee) is asked about its
open parcels on every run (TRACKING_POLL_INTERVAL_SECONDS apart). An aggregator that waits for a
person (Shiplee's agreement gate) is skipped, with its alert already raised, until it clears. Work a
crashed job left behind is not its business: the sweeper's resumer finishes it
(service.resume_tracking), so recovery does not depend on this poller being switched on."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.integrations.aggregator import Aggregator
from app.integrations.http import UpstreamError
from app.integrations.shipping import AccountActionRequired
from app.services import Services
from app.tracking import repository
from app.tracking.parcels import ParcelRef
from app.tracking.service import ingest, is_applied, process

log = logging.getLogger("shipbridge.tracking.poller")

MAX_PER_RUN = 1000


@dataclass
class PollResult:
    polled: int = 0  # AWBs asked about
    answered: int = 0  # AWBs whose answer was stored and applied
    unchanged: int = 0  # AWBs whose answer was an event already applied: nothing to fold or settle
    failed: int = 0  # answers stored but not applied (the sweeper finishes them)
    failed_batches: int = 0
    skipped: list[str] = field(default_factory=list)  # aggregators waiting for a person, with why


async def poll_tracking(svc: Services, now: datetime | None = None) -> PollResult:
    now = now or datetime.now(UTC)
    result = PollResult()
    for name, client in svc.aggregators.items():
        due = await _due(svc, name, client, now)
        if not due:
            continue
        try:
            waiting = await client.blocked()
        except UpstreamError as exc:  # cannot tell: leave it for the next run, poll the others
            waiting = f"not reachable ({exc})"
        if waiting:
            result.skipped.append(f"{name}: {waiting}")
            continue
        await _poll(svc, client, due, now, result)
    if result != PollResult():
        log.info("tracking poll: %s", result)
    return result


async def _poll(svc: Services, client: Aggregator, due: list[ParcelRef], now: datetime, result: PollResult) -> None:
    for start in range(0, len(due), client.track_batch):
        batch = due[start:start + client.track_batch]
        try:
            answer = await client.track([ref.awb for ref in batch])
        except AccountActionRequired as exc:  # alerted by the client; no more calls this run
            result.skipped.append(f"{client.name}: {exc.upstream_message}")
            return
        except UpstreamError as exc:
            log.warning("tracking poll of %d %s AWBs failed: %s", len(batch), client.name, exc)
            result.failed_batches += 1
            continue
        await _touch(svc, batch, now)  # exactly the AWBs just asked about
        result.polled += len(batch)
        for ref in batch:
            found = answer.get(ref.awb)
            if found is None:
                continue
            try:
                event_id = await ingest(svc, ref, found, source="poll")
                # Most polled parcels have not moved (Shiplee's are all polled every run): an event already
                # applied needs no order lock, fold or settle; one stored but unapplied still gets them.
                if await is_applied(svc, event_id):
                    result.unchanged += 1
                    continue
                await process(svc, ref, wait_for=event_id)
            except UpstreamError as exc:  # stored, left unapplied or unsettled: the sweeper finishes it
                log.warning("applying polled tracking for %s failed: %s", ref.awb, exc)
                result.failed += 1
            else:
                result.answered += 1


async def _due(svc: Services, name: str, client: Aggregator, now: datetime) -> list[ParcelRef]:
    """`name`'s parcels due a poll: forward shipments it booked, and return parcels of those shipments."""
    s = svc.settings
    age = s.TRACKING_POLL_AGE_SECONDS if client.pushes_tracking else s.TRACKING_POLL_INTERVAL_SECONDS
    stale = now - timedelta(seconds=age)
    since = now - timedelta(days=svc.settings.TRACKING_LOOKBACK_DAYS)
    async with svc.sessionmaker() as session:
        return await repository.parcels_due_poll(session, name, booked_since=since, heard_before=stale,
                                                 limit=MAX_PER_RUN)


async def _touch(svc: Services, batch: list[ParcelRef], now: datetime) -> None:
    async with svc.sessionmaker.begin() as session:
        await repository.touch_parcels(session, batch, now)
