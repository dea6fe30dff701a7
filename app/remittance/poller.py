"""The remittance poller: the real Shiprocket sends no remittance webhook, so read its API and turn each
new batch into the same record the webhook would have delivered, stored in the inbox and handled by
the same job.

How a batch's per-AWB lines are rebuilt (the API lists batch totals only): for each COD shipment of
ours that no remittance names yet, `GET /orders/show/{sr_order_id}`; its `remittance_utr` equal to a
batch's `utr` puts the order in that batch, with `net_total` as its COD amount. The API does not
itemise deductions per AWB, so the batch's `deduction_value` is apportioned over its lines by COD
amount (to the paisa, summing exactly), and the lines are marked `deductions_allocated`. Orders are
read only when a batch appears that no poll has stored yet, so a quiet poll costs one listing call."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from app.inbox import PROCESS_JOB, Source, job_id, store_event
from app.integrations.shiprocket.client import ShiprocketClient
from app.models import InboxEvent
from app.remittance import repository as repo
from app.remittance import shiprocket_source as source
from app.remittance.payloads import Remittance, RemittanceLine, dedupe_key, remittance_to_json
from app.remittance.reconcile import ZERO, allocate, expects_remittance
from app.remittance.repository import UnremittedCod
from app.remittance.service import enqueue_settle
from app.services import Services

log = logging.getLogger("shipbridge.remittance.poller")

POLL_OVERLAP_DAYS = 7  # re-read this much before the last poll: a batch may be listed a few days late
DEFAULT_LOOKBACK_DAYS = 30  # with no REMITTANCE_START_DATE, the first poll reads this far back


@dataclass
class PollResult:
    batches_listed: int = 0
    batches_new: int = 0
    orders_read: int = 0
    events_stored: int = 0


def poll_window(today: date, start: date | None, polled_through: date | None,
                first_shipment: date | None = None) -> date:
    """Where this poll starts reading. Without a configured start date, never before Shipbridge booked
    its first shipment: an earlier batch cannot hold our orders and would only show as unattributable."""
    first = start or max(today - timedelta(days=DEFAULT_LOOKBACK_DAYS), first_shipment or date.min)
    return max(first, polled_through - timedelta(days=POLL_OVERLAP_DAYS)) if polled_through else first


async def poll_remittances(svc: Services, today: date | None = None) -> PollResult:
    client = svc.aggregator
    if not isinstance(client, ShiprocketClient):
        return PollResult()
    today = today or source.ist_today()
    async with svc.sessionmaker() as session:
        start = poll_window(today, svc.settings.REMITTANCE_START_DATE, await repo.polled_through(session),
                            await repo.first_shipment_day(session, source.IST))
    batches = await source.list_batches(client, start, today)
    result = PollResult(batches_listed=len(batches))
    async with svc.sessionmaker() as session:
        done = await repo.polled_batches(session, [k for b in batches for k in (b.crf_id, b.utr)])
    new = [b for b in batches if b.crf_id not in done and b.utr not in done]
    result.batches_new = len(new)
    if new:
        found, result.orders_read = await _orders_in(svc, client, new)
        for batch in new:
            remittance = await _remittance(svc, batch, found[batch.utr])
            result.events_stored += await _store(svc, remittance)
    async with svc.sessionmaker.begin() as session:
        await repo.set_polled_through(session, today)
        stuck = await repo.remittances_with_pending(session)
    for remittance_id in stuck:  # lost settle jobs (Redis flushed, worker killed) resume here
        await enqueue_settle(svc, remittance_id)
    if result.batches_new:
        log.info("remittance poll: %s", result)
    return result


Found = dict[str, list[tuple[UnremittedCod, source.OrderRemittance]]]  # by UTR: our shipment, Shiprocket's word


async def _orders_in(svc: Services, client: ShiprocketClient, batches: list[source.Batch]) -> tuple[Found, int]:
    """Which of our unremitted COD shipments each batch (by UTR) paid for."""
    wanted = {b.utr: b.gross for b in batches}
    found: Found = defaultdict(list)
    async with svc.sessionmaker() as session:
        candidates = await repo.unremitted_cod_shipments(session)
    read = 0
    for shipment in candidates:
        if not expects_remittance(shipment.payment_method, shipment.tracking_status):
            continue
        if all(sum((o.cod_amount for _, o in found[utr]), ZERO) >= gross > 0 for utr, gross in wanted.items()):
            break  # every new batch's gross is accounted for
        info = await source.order_remittance(client, shipment.sr_order_id)
        read += 1
        if info is not None and info.utr in wanted:
            found[info.utr].append((shipment, info))
    return found, read


async def _remittance(svc: Services, batch: source.Batch,
                      orders: list[tuple[UnremittedCod, source.OrderRemittance]]) -> Remittance:
    async with svc.sessionmaker() as session:
        stored = await repo.find_remittance(session, batch.crf_id, batch.utr)
        recorded = await repo.recorded_deductions(session, stored.remittance_id) if stored else ZERO
    to_allocate = max(ZERO, batch.deductions - recorded)  # a webhook may already have itemised some
    shares = allocate(to_allocate, [info.cod_amount for _, info in orders])
    lines = tuple(RemittanceLine(awb=shipment.awb,
                                 order_id=info.channel_order_id or shipment.channel_order_id,
                                 cod_amount=info.cod_amount, deducted_charges=share)
                  for (shipment, info), share in zip(orders, shares, strict=True))
    return Remittance(remittance_id=batch.crf_id, remittance_date=batch.remittance_date,
                      bank_transfer_amount=batch.remitted, lines=lines, utr=batch.utr,
                      deductions_allocated=to_allocate > 0)


async def _store(svc: Services, remittance: Remittance) -> int:
    raw = json.dumps(remittance_to_json(remittance), sort_keys=True).encode()
    async with svc.sessionmaker.begin() as session:
        event_id, duplicate = await store_event(
            session, source=Source.cod_remittance, dedupe_key=dedupe_key("poll", remittance.remittance_id, raw),
            body=raw, content_type="application/json", subject=remittance.remittance_id)
    if duplicate or event_id is None:
        return 0
    if await svc.queue.enqueue(PROCESS_JOB, event_id, job_id=job_id(event_id)):
        async with svc.sessionmaker.begin() as session:
            await session.execute(update(InboxEvent).where(InboxEvent.id == event_id)
                                  .values(enqueued_at=datetime.now(UTC)))
    return 1
