"""Job bodies (the arq functions in workers/main.py are thin wrappers): process an inbox event, drive a
fulfilment, and the sweeper that makes sure nothing stored is ever left undone (Redis down at webhook
time, a killed worker, a lost deferred job)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from app.alerts import raise_alert, raise_credentials_alert
from app.fulfilment.handler import accept_salesorder
from app.fulfilment.service import FULFIL_JOB, fulfil
from app.fulfilment.state import PAST_PICKUP
from app.inbox import MAX_ATTEMPTS, PROCESS_JOB, Source, job_id, mark
from app.integrations.http import PermanentUpstreamError, RetryableUpstreamError, UpstreamAuthError
from app.integrations.zoho.budget import flush_deferred_writes
from app.locks import advisory_lock
from app.metrics import JobTimer
from app.models import ACTIVE_STATES, InboxEvent, InboxState, Shipment, ShipmentState
from app.ops.notify import channels_configured, deliver_pending_alerts
from app.parsing import Malformed
from app.remittance.handler import handle_remittance_event
from app.remittance.service import resume_remittances
from app.returns_portal.handler import handle_returnprime_event
from app.schedule import Cron, Job
from app.services import Services
from app.tracking.handler import handle_tracking_event
from app.tracking.service import resume_tracking

log = logging.getLogger("shipbridge.jobs")


async def process_inbox_event(svc: Services, event_id: int) -> str:
    async with svc.sessionmaker.begin() as session:
        event = await session.get(InboxEvent, event_id)
        if event is None:
            return "missing"
        if event.state == InboxState.pending:
            event.attempts += 1
    if event.state == InboxState.pending:
        state, reason = await _handle(svc, event)
        async with svc.sessionmaker.begin() as session:
            await mark(session, event.id, state, reason)
        event.state = state
    if event.source == Source.zoho_salesorder and event.state == InboxState.done and event.subject:
        # Also on a re-run: the event may be done while its fulfilment still has steps to take.
        await fulfil(svc, event.subject)
    return str(event.state)


Handler = Callable[[Services, InboxEvent], Awaitable[tuple[str, str | None]]]

# One handler per inbox source: each turns a stored delivery into work done (idempotently) and
# returns the inbox state and reason to record.
HANDLERS: dict[str, Handler] = {
    Source.zoho_salesorder: accept_salesorder,
    Source.cod_remittance: handle_remittance_event,
    Source.tracking: handle_tracking_event,
    Source.returnprime: handle_returnprime_event,
}


async def _handle(svc: Services, event: InboxEvent) -> tuple[str, str | None]:
    handler = HANDLERS.get(event.source)
    try:
        if handler is None:
            return InboxState.invalid, f"no handler for source {event.source}"
        return await handler(svc, event)
    except Malformed as exc:
        return InboxState.invalid, str(exc)
    except RetryableUpstreamError as exc:
        if isinstance(exc, UpstreamAuthError):
            async with svc.sessionmaker.begin() as session:
                await raise_credentials_alert(session, exc)
        if event.attempts >= MAX_ATTEMPTS:
            await _park(svc, event, f"gave up after {event.attempts} attempts: {exc}")
            return InboxState.failed, str(exc)[:1000]
        raise
    except PermanentUpstreamError as exc:
        await _park(svc, event, str(exc))
        return InboxState.failed, str(exc)[:1000]


async def _park(svc: Services, event: InboxEvent, reason: str) -> None:
    async with svc.sessionmaker.begin() as session:
        await raise_alert(session, kind="inbox_failed", key=str(event.id), salesorder_id=event.subject,
                          message=f"inbox event {event.id} ({event.source}) failed: {reason}")


Resumer = Callable[[Services, datetime], Awaitable[int]]

# Domain work left half-done (a tracking event stored but not applied, a remittance line paid but not
# written back...). Each resumer gets the staleness cutoff, re-queues or finishes what is older, and
# returns how many it picked up. The sweeper always runs, so recovery never depends on a poller's switch.
RESUMERS: dict[str, Resumer] = {"tracking": resume_tracking}
RESUMERS["remittance"] = resume_remittances


async def flush_zoho_deferred(svc: Services, _stale: datetime | None = None) -> int:
    """Write the labels parked by the day's budget or the rate window (its own cron job, every
    SWEEP_INTERVAL_SECONDS, not a sweep step: it may spend most of an interval waiting for room in Zoho's
    window, and the sweep's recovery and alerts must not wait with it). One flush at a time in any
    process: two over the same rows would write a label twice."""
    async with advisory_lock(svc.engine, "zoho:deferred-flush") as held:
        if not held:
            return 0
        return await flush_deferred_writes(svc.zoho, svc.sessionmaker,
                                           max_wait=svc.settings.SWEEP_INTERVAL_SECONDS * 0.8)


@dataclass
class SweepResult:
    inbox_enqueued: int = 0
    inbox_parked: int = 0
    shipments_enqueued: int = 0
    alerts_delivered: int = 0
    resumed: dict[str, int] = field(default_factory=dict)


async def sweep(svc: Services, now: datetime | None = None) -> SweepResult:
    now = now or datetime.now(UTC)
    stale = now - timedelta(seconds=svc.settings.SWEEP_STALE_SECONDS)
    result = SweepResult()
    stamp = int(now.timestamp())
    async with svc.sessionmaker() as session:
        events = (await session.execute(
            select(InboxEvent.id, InboxEvent.attempts, InboxEvent.source, InboxEvent.subject)
            .where(InboxEvent.state == InboxState.pending,
                   # never enqueued (Redis was down) and not just arriving, or enqueued long ago and still pending
                   or_(InboxEvent.enqueued_at.is_(None) & (InboxEvent.received_at < now - timedelta(seconds=5)),
                       InboxEvent.enqueued_at < stale))
            .order_by(InboxEvent.id).limit(500))).all()
        shipments = (await session.execute(
            select(Shipment.salesorder_id).where(
                Shipment.state.in_([s.value for s in ACTIVE_STATES]),
                # dispatch is moot once the courier has the parcel (e.g. picked up before this release)
                or_(Shipment.tracking_status.is_(None), Shipment.tracking_status.not_in(PAST_PICKUP)),
                or_(Shipment.updated_at < stale,
                    (Shipment.state == ShipmentState.awb_retry) & (Shipment.next_attempt_at <= now)))
            .order_by(Shipment.id).limit(500))).scalars().all()
    for event_id, attempts, source, subject in events:
        if attempts >= MAX_ATTEMPTS:
            async with svc.sessionmaker.begin() as session:
                await mark(session, event_id, InboxState.failed, f"gave up after {attempts} attempts")
                await raise_alert(session, kind="inbox_failed", key=str(event_id), salesorder_id=subject,
                                  message=f"inbox event {event_id} ({source}) gave up after {attempts} attempts")
            result.inbox_parked += 1
            continue
        # A fresh job id each time: arq refuses a repeated id while the old job's result is kept.
        if await svc.queue.enqueue(PROCESS_JOB, event_id, job_id=job_id(event_id, f"sweep:{stamp}")):
            async with svc.sessionmaker.begin() as session:
                await session.execute(update(InboxEvent).where(InboxEvent.id == event_id).values(enqueued_at=now))
            result.inbox_enqueued += 1
    for salesorder_id in shipments:
        if await svc.queue.enqueue(FULFIL_JOB, salesorder_id, job_id=f"fulfil:{salesorder_id}:sweep:{stamp}"):
            result.shipments_enqueued += 1
    for name, resume in RESUMERS.items():
        count = await resume(svc, stale)
        if count:
            result.resumed[name] = count
    if channels_configured(svc.settings):
        async with svc.sessionmaker() as session:
            result.alerts_delivered = await deliver_pending_alerts(session, svc.http, svc.settings)
    if result != SweepResult():
        log.info("sweep: %s", result)
    return result


async def timed_sweep(svc: Services) -> str:
    with JobTimer("sweep"):
        return str(await sweep(svc))


async def _flush_labels(svc: Services) -> str:
    return str(await flush_zoho_deferred(svc))


# The spine's own jobs, collected by workers/main.py beside each domain's tasks.py.
JOBS = [Job(PROCESS_JOB, process_inbox_event, subject="event_id")]
CRONS = [Cron("sweep", timed_sweep, interval=lambda s: s.SWEEP_INTERVAL_SECONDS, timeout=None, run_at_startup=True),
         # Status labels parked for Zoho's window or day (app/integrations/zoho/budget.py).
         Cron("zoho_labels", _flush_labels, interval=lambda s: s.SWEEP_INTERVAL_SECONDS)]
