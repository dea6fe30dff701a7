"""The inbox handler for COD remittances (Source.cod_remittance: webhook and poller deliveries alike,
registered in app.jobs.HANDLERS): store the batch and its new lines, check the totals, queue the settling
(app/remittance/service.py)."""

from __future__ import annotations

from app.locks import advisory_lock
from app.models import InboxEvent, InboxState
from app.queue import commit_then_enqueue
from app.remittance import repository as repo
from app.remittance.payloads import parse_remittance
from app.remittance.service import SETTLE_JOB, check_totals, settle_job_id
from app.services import Services

STORE_LOCK = "cod-remittance-store"
STORE_LOCK_WAIT_SECONDS = 30.0  # storing takes milliseconds; only another store can hold it


async def handle_remittance_event(svc: Services, event: InboxEvent) -> tuple[str, str | None]:
    """Inbox handler for Source.cod_remittance: store, check the totals, queue the settling."""
    remittance = parse_remittance(event.body, event.content_type or "application/json")
    source = "poller" if event.dedupe_key.startswith("poll:") else "webhook"
    async with advisory_lock(svc.engine, STORE_LOCK, wait=STORE_LOCK_WAIT_SECONDS) as held:
        if not held:
            return InboxState.pending, "another remittance is being stored; the sweeper retries this"
        async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
            rid, new_lines = await repo.store_remittance(session, remittance, source)
            await check_totals(session, rid)
            jobs.add(SETTLE_JOB, rid, job_id=settle_job_id(rid))
    queued = jobs.enqueued
    then = "settling queued" if queued else "settling left to the sweeper (queue unavailable)"
    return InboxState.done, f"remittance {rid} via {source}: {new_lines} new line(s); {then}"
