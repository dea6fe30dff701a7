"""The remittance poller: the real Shiprocket sends no remittance webhook, so read its API and turn each
new batch into the same record the webhook would have delivered, stored in the inbox and handled by
the same job.

How a batch's per-AWB lines are rebuilt (the API lists batch totals only): for each COD shipment of
ours that no remittance names yet, delivered (or, with no delivery known, booked) from ORDER_LOOKBACK_DAYS
before the earliest new batch up to the latest one, newest first, `GET /orders/show/{sr_order_id}`; its
`remittance_utr` equal to a batch's `utr` puts the order in that batch, with `net_total` as its COD
amount. Reading stops once every new batch's gross is accounted for (counting lines a webhook already
stored). The API does not itemise deductions per AWB, so the batch's `deduction_value` is apportioned
over its lines by COD amount (to the paisa, summing exactly), and the lines are marked
`deductions_allocated`. Orders are read only when a batch appears that no poll has stored yet, so a
quiet poll costs one listing call. A listing row or order whose amounts are unreadable is skipped
(logged, and a `remittance_unreadable` alert for a row), so one bad row never stops the poll."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from app.alerts import raise_alert
from app.inbox import Source, store_event
from app.integrations.shiprocket.client import ShiprocketClient
from app.remittance import repository as repo
from app.remittance import shiprocket_source as source
from app.remittance.payloads import ZERO, Remittance, RemittanceLine, dedupe_key, remittance_to_json
from app.remittance.reconcile import allocate, expects_remittance
from app.remittance.repository import UnremittedCod
from app.services import Services
from app.timeutil import IST, ist_today
from app.webhooks.payloads import Malformed
from app.webhooks.storage import enqueue_after_commit

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


def poll_window(today: date, start: date | None, polled_through: date | None,
                first_shipment: date | None = None) -> date:
    """Where this poll starts reading. Without a configured start date, never before Shipbridge booked
    its first shipment: an earlier batch cannot hold our orders and would only show as unattributable."""
    first = start or max(today - timedelta(days=DEFAULT_LOOKBACK_DAYS), first_shipment or date.min)
    return max(first, polled_through - timedelta(days=POLL_OVERLAP_DAYS)) if polled_through else first


async def poll_remittances(svc: Services, today: date | None = None, since: date | None = None) -> PollResult:
    """One poll. `since` (the CLI's --since) reads from that day whatever earlier polls read: a back-fill."""
    client = svc.aggregator
    if not isinstance(client, ShiprocketClient):
        return PollResult()
    today = today or ist_today()
    async with svc.sessionmaker() as session:
        start = since or poll_window(today, svc.settings.REMITTANCE_START_DATE, await repo.polled_through(session),
                                     await repo.first_shipment_day(session, IST))
    result = PollResult()
    batches = await _list_batches(client, start, today, result)
    result.batches_listed = len(batches)
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
        await repo.set_polled(session, start, today)
        for reason in result.rows_skipped:
            await raise_alert(session, kind="remittance_unreadable", key=reason.split(":", 1)[0],
                              message=f"Shiprocket's remittance listing has a row Shipbridge cannot read ({reason}); "
                                      "that batch is not recorded. Check it in Shiprocket's panel")
    if result.batches_new or result.rows_skipped:
        log.info("remittance poll: %s", result)
    return result


async def _list_batches(client: ShiprocketClient, start: date, end: date, result: PollResult) -> list[source.Batch]:
    batches: dict[str, source.Batch] = {}
    for window_start, window_end in source.windows(start, end):
        for page in range(1, source.MAX_PAGES + 1):
            body = await client.remittances(window_start, window_end, page, source.PAGE_SIZE)
            for row in body.get("data") or []:
                if not isinstance(row, dict):
                    continue
                try:
                    batch = source.parse_batch(row)
                except Malformed as exc:
                    log.warning("remittance listing row skipped: %s", exc)
                    result.rows_skipped.append(f"{row.get('crf_id') or '?'}: {exc}")
                    continue
                if batch is not None:
                    batches.setdefault(batch.crf_id, batch)
            if source.last_page(body, page):
                break
    return sorted(batches.values(), key=lambda b: (b.remittance_date, b.crf_id))


Found = dict[str, list[tuple[UnremittedCod, source.OrderRemittance]]]  # by UTR: our shipment, Shiprocket's word


def _ist_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), IST).astimezone(UTC)


async def _orders_in(svc: Services, client: ShiprocketClient, batches: list[source.Batch]) -> tuple[Found, int]:
    """Which of our unremitted COD shipments each batch (by UTR) paid for."""
    since = _ist_midnight(min(b.remittance_date for b in batches) - timedelta(days=ORDER_LOOKBACK_DAYS))
    until = _ist_midnight(max(b.remittance_date for b in batches) + timedelta(days=1))
    found: Found = defaultdict(list)
    accounted: dict[str, Decimal] = {}
    async with svc.sessionmaker() as session:
        for batch in batches:  # lines a webhook already stored for the batch are part of its gross
            stored = await repo.find_remittance(session, batch.crf_id, batch.utr)
            accounted[batch.utr] = (await repo.recorded_totals(session, stored.remittance_id))[0] if stored else ZERO
        candidates = await repo.unremitted_cod_shipments(session, since, until)
    gross = {b.utr: b.gross for b in batches}
    read = 0
    for shipment in candidates:
        if all(accounted[utr] >= gross[utr] for utr in gross):
            break  # every new batch's gross is accounted for
        if not expects_remittance(shipment.payment_method, shipment.tracking_status):
            continue
        data = await client.order_show(shipment.sr_order_id)
        read += 1
        if data is None:
            continue
        try:
            info = source.parse_order_remittance(data)
        except Malformed as exc:
            log.warning("remittance: Shiprocket order %s skipped: %s", shipment.sr_order_id, exc)
            continue
        if info.utr in gross:
            found[info.utr].append((shipment, info))
            accounted[info.utr] += info.cod_amount
    return found, read


async def _remittance(svc: Services, batch: source.Batch,
                      orders: list[tuple[UnremittedCod, source.OrderRemittance]]) -> Remittance:
    async with svc.sessionmaker() as session:
        stored = await repo.find_remittance(session, batch.crf_id, batch.utr)
        recorded = (await repo.recorded_totals(session, stored.remittance_id))[1] if stored else ZERO
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
    await enqueue_after_commit(svc.queue, svc.sessionmaker, event_id)
    return 1
