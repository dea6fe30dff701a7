"""The remittance poller: no aggregator pushes every remittance (Shiprocket's webhook is not sent by the
real service, Shiplee has none), so each configured aggregator's listing is read and each new, paid
batch becomes the same record the webhook would have delivered, stored in the inbox and handled by the
same job (gross applied, deductions as bank charges, exactly once). Each aggregator keeps its own poll
window (cod_remittance_poll, one row per aggregator). One waiting for a person (Shiplee's agreement
gate) is skipped, its alert already raised, until it clears.

Itemised listings (Shiplee names the AWBs of each batch): the lines are the batch's AWBs. A line whose
amount the aggregator did not give (a grouped Shiplee row) takes what we expected the courier to collect
for it (the COD total), so a batch that does not add up raises `remittance_mismatch`; deductions not
given per AWB are apportioned over the lines by amount (`deductions_allocated`).

Listings of totals only (Shiprocket): a batch's per-AWB lines are rebuilt by reading orders. For each
COD shipment of ours that no remittance names yet, delivered (or, with no delivery known, booked) from
ORDER_LOOKBACK_DAYS before the earliest new batch up to the latest one, newest first, the aggregator's
`remittance_order` (Shiprocket: `GET /orders/show/{sr_order_id}`); its UTR equal to a batch's puts the
order in that batch, with its amount. Reading stops once every new batch's gross is accounted for
(counting lines a webhook already stored). The batch's deductions are apportioned over its lines by COD
amount (to the paisa, summing exactly). Orders are read only when a batch appears that no poll has
stored yet, so a quiet poll costs one listing call. A listing row or order whose amounts are unreadable
is skipped (logged, and a `remittance_unreadable` alert for a row), so one bad row never stops the poll."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from app.alerts import raise_alert
from app.inbox import PROCESS_JOB, Source, job_id, store_event
from app.integrations.aggregator import Aggregator
from app.integrations.http import UpstreamError
from app.integrations.shipping import AccountActionRequired, OrderRemittance, RemittanceBatch, display_name
from app.models import InboxEvent
from app.parsing import Malformed
from app.queue import commit_then_enqueue
from app.remittance import repository as repo
from app.remittance.payloads import ZERO, Remittance, RemittanceLine, dedupe_key, remittance_to_json
from app.remittance.reconcile import allocate, expects_remittance
from app.remittance.repository import UnremittedCod
from app.services import Services
from app.timeutil import IST, ist_midnight, ist_today

log = logging.getLogger("shipbridge.remittance.poller")

POLL_OVERLAP_DAYS = 7  # re-read this much before the last poll: a batch may be listed a few days late
DEFAULT_LOOKBACK_DAYS = 30  # with no REMITTANCE_START_DATE, the first poll reads this far back
# How long before a batch its orders may have been delivered. Shiprocket remits 7-10 days after
# delivery; a held remittance can take longer. Older unremitted orders are never read for a new batch.
ORDER_LOOKBACK_DAYS = 45


@dataclass
class PollResult:
    batches_listed: int = 0
    batches_new: int = 0
    orders_read: int = 0
    events_stored: int = 0
    rows_skipped: list[str] = field(default_factory=list)  # unreadable listing rows, with the reason
    skipped: list[str] = field(default_factory=list)  # aggregators waiting for a person, with why


def poll_window(today: date, start: date | None, polled_through: date | None,
                first_shipment: date | None = None) -> date:
    """Where this poll starts reading. Without a configured start date, never before Shipbridge booked
    its first shipment: an earlier batch cannot hold our orders and would only show as unattributable."""
    first = start or max(today - timedelta(days=DEFAULT_LOOKBACK_DAYS), first_shipment or date.min)
    return max(first, polled_through - timedelta(days=POLL_OVERLAP_DAYS)) if polled_through else first


async def poll_remittances(svc: Services, today: date | None = None, since: date | None = None) -> PollResult:
    """One poll of every configured aggregator. `since` (the CLI's --since) reads from that day whatever
    earlier polls read: a back-fill."""
    today = today or ist_today()
    result = PollResult()
    failed: UpstreamError | None = None
    for name, client in svc.aggregators.items():
        try:
            waiting = await client.blocked()
            if waiting:
                result.skipped.append(f"{name}: {waiting}")
                continue
            await _poll(svc, name, client, today, since, result)
        except AccountActionRequired as exc:  # the client alerted; nothing more this run
            result.skipped.append(f"{name}: {exc.upstream_message}")
        except UpstreamError as exc:  # one aggregator down does not keep the others' money from Books
            log.warning("remittance poll of %s failed: %s", name, exc)
            failed = failed or exc
    if result.batches_new or result.rows_skipped or result.skipped:
        log.info("remittance poll: %s", result)
    if failed is not None:
        raise failed  # the job fails as before, and the next run reads that aggregator again
    return result


async def _poll(svc: Services, name: str, client: Aggregator, today: date, since: date | None,
                result: PollResult) -> None:
    async with svc.sessionmaker() as session:
        start = since or poll_window(today, svc.settings.REMITTANCE_START_DATE,
                                     await repo.polled_through(session, name),
                                     await repo.first_shipment_day(session, IST, name))
    listing = await client.remittances(start, today)
    skipped = [f"{reason} ({name})" for reason in listing.unreadable]
    for reason in skipped:
        log.warning("remittance listing row skipped: %s", reason)
    result.rows_skipped += skipped
    batches = [b for b in listing.batches if b.paid]  # announced but not yet paid: nothing to record yet
    result.batches_listed += len(batches)
    async with svc.sessionmaker() as session:
        done = await repo.polled_batches(session, [k for b in batches for k in (b.batch_id, b.utr) if k])
    new = [b for b in batches if b.batch_id not in done and (not b.utr or b.utr not in done)]
    result.batches_new += len(new)
    found: Found = defaultdict(list)
    totals_only = [b for b in new if not b.itemised and b.utr]
    if totals_only:
        found, read = await _orders_in(svc, name, client, totals_only)
        result.orders_read += read
    for batch in new:
        if batch.itemised:
            remittance = await _itemised(svc, batch)
        elif batch.utr:
            remittance = await _rebuilt(svc, batch, found[batch.utr])
        else:
            continue  # totals only and no UTR: nothing ties orders to it
        result.events_stored += await _store(svc, remittance)
    async with svc.sessionmaker.begin() as session:
        await repo.set_polled(session, start, today, name)
        for reason in skipped:
            await raise_alert(session, kind="remittance_unreadable", key=f"{name}:{reason.split(':', 1)[0]}",
                              message=f"{display_name(name)}'s remittance listing has a row Shipbridge cannot "
                                      f"read ({reason}); that batch is not recorded. Check it in "
                                      f"{display_name(name)}'s panel")


Found = dict[str, list[tuple[UnremittedCod, OrderRemittance]]]  # by UTR: our shipment, the aggregator's word


async def _orders_in(svc: Services, name: str, client: Aggregator,
                     batches: list[RemittanceBatch]) -> tuple[Found, int]:
    """Which of our unremitted COD shipments each batch (by UTR) paid for."""
    since = ist_midnight(min(b.remittance_date for b in batches) - timedelta(days=ORDER_LOOKBACK_DAYS))
    until = ist_midnight(max(b.remittance_date for b in batches) + timedelta(days=1))
    found: Found = defaultdict(list)
    accounted: dict[str, Decimal] = {}
    async with svc.sessionmaker() as session:
        for batch in batches:  # lines a webhook already stored for the batch are part of its gross
            stored = await repo.find_remittance(session, batch.batch_id, batch.utr)
            assert batch.utr
            accounted[batch.utr] = (await repo.recorded_totals(session, stored.remittance_id))[0] if stored else ZERO
        candidates = await repo.unremitted_cod_shipments(session, since, until, name)
    gross = {b.utr: b.gross for b in batches if b.utr}
    read = 0
    for shipment in candidates:
        if all(accounted[utr] >= gross[utr] for utr in gross):
            break  # every new batch's gross is accounted for
        if not expects_remittance(shipment.payment_method, shipment.tracking_status):
            continue
        try:
            info = await client.remittance_order(shipment.sr_order_id)
        except Malformed as exc:
            log.warning("remittance: %s order %s skipped: %s", name, shipment.sr_order_id, exc)
            read += 1
            continue
        read += 1
        if info is None:
            continue
        if info.utr in gross:
            found[info.utr].append((shipment, info))
            accounted[info.utr] += info.cod_amount
    return found, read


async def _rebuilt(svc: Services, batch: RemittanceBatch,
                   orders: list[tuple[UnremittedCod, OrderRemittance]]) -> Remittance:
    async with svc.sessionmaker() as session:
        stored = await repo.find_remittance(session, batch.batch_id, batch.utr)
        recorded = (await repo.recorded_totals(session, stored.remittance_id))[1] if stored else ZERO
    to_allocate = max(ZERO, batch.deductions - recorded)  # a webhook may already have itemised some
    shares = allocate(to_allocate, [info.cod_amount for _, info in orders])
    lines = tuple(RemittanceLine(awb=shipment.awb,
                                 order_id=info.channel_order_id or shipment.channel_order_id,
                                 cod_amount=info.cod_amount, deducted_charges=share)
                  for (shipment, info), share in zip(orders, shares, strict=True))
    return Remittance(remittance_id=batch.batch_id, remittance_date=batch.remittance_date,
                      bank_transfer_amount=batch.remitted, lines=lines, utr=batch.utr,
                      deductions_allocated=to_allocate > 0)


async def _itemised(svc: Services, batch: RemittanceBatch) -> Remittance:
    """A batch whose AWBs the aggregator named. Missing amounts are what we expected to be collected (an
    AWB we do not know shares what is left of the gross); missing deductions are apportioned."""
    async with svc.sessionmaker() as session:
        expected = await repo.expected_cod(session, [item.awb for item in batch.items])
    amounts = [item.cod_amount if item.cod_amount is not None else expected.get(item.awb, (None, ""))[0]
               for item in batch.items]
    unknown = [n for n, amount in enumerate(amounts) if amount is None]
    if unknown:
        left = max(ZERO, batch.gross - sum((a for a in amounts if a is not None), ZERO))
        for n, share in zip(unknown, allocate(left, [Decimal(1)] * len(unknown)), strict=True):
            amounts[n] = share
    cod = [a if a is not None else ZERO for a in amounts]
    given = [item.deductions for item in batch.items]
    allocated = any(d is None for d in given)
    deductions = allocate(batch.deductions, cod) if allocated else [d or ZERO for d in given]
    lines = tuple(RemittanceLine(awb=item.awb, order_id=item.order_id or expected.get(item.awb, (None, ""))[1],
                                 cod_amount=amount, deducted_charges=share)
                  for item, amount, share in zip(batch.items, cod, deductions, strict=True))
    return Remittance(remittance_id=batch.batch_id, remittance_date=batch.remittance_date,
                      bank_transfer_amount=batch.remitted, lines=lines, utr=batch.utr,
                      deductions_allocated=allocated and batch.deductions > 0)


async def _store(svc: Services, remittance: Remittance) -> int:
    """Store the batch as the webhook would have, and queue its job once the row is committed (a failed
    enqueue leaves enqueued_at behind as a stale hint: the sweeper re-queues the row)."""
    raw = json.dumps(remittance_to_json(remittance), sort_keys=True).encode()
    async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
        event_id, duplicate = await store_event(
            session, source=Source.cod_remittance, dedupe_key=dedupe_key("poll", remittance.remittance_id, raw),
            body=raw, content_type="application/json", subject=remittance.remittance_id)
        if duplicate or event_id is None:
            return 0
        await session.execute(update(InboxEvent).where(InboxEvent.id == event_id)
                              .values(enqueued_at=datetime.now(UTC)))
        jobs.add(PROCESS_JOB, event_id, job_id=job_id(event_id))
    return 1
