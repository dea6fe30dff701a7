"""Zoho's daily quota as a budget: calls counted per organisation per Zoho day in Redis (shared by every
process), status labels deferred near the end of it while AWB and stock writes still go, and the deferred
writes made after the reset, first deferred first, latest status only, none lost."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from sqlalchemy import select

from app.integrations.shiprocket.statuses import from_shipment_id
from app.integrations.zoho.budget import (
    ZohoDailyBudget,
    daily_budget,
    flush_deferred_writes,
    write_status_fields,
    writes_label,
    zoho_usage_today,
)
from app.integrations.zoho.models import ZohoDeferredWrite
from app.services import build_services
from tests.harness import eventually
from tests.spine_helpers import confirmed_order
from tests.tracking.helpers import RTO, bodies, post, settled, shipped, stack


async def fill(budget: ZohoDailyBudget, upto: int) -> None:
    """Spend the day's counter up to `upto`, as other processes' calls would."""
    await budget.spend(upto - await budget.used())


async def deferred(svc) -> list[ZohoDeferredWrite]:
    async with svc.sessionmaker() as session:
        return list((await session.execute(select(ZohoDeferredWrite).order_by(ZohoDeferredWrite.deferred_at)))
                    .scalars())


def test_the_budget_follows_the_plan_and_the_day_is_zohos(settings):
    assert daily_budget(settings.model_copy(update={"ZOHO_PLAN": "free"})) == 1000
    assert daily_budget(settings.model_copy(update={"ZOHO_PLAN": "Premium"})) == 10000
    assert daily_budget(settings.model_copy(update={"ZOHO_PLAN": "free", "ZOHO_DAILY_BUDGET": 1500})) == 1500
    budget = ZohoDailyBudget(None, "org", 5000, 0.1, "Asia/Kolkata")  # type: ignore[arg-type]
    assert budget.reserve == 500
    # 19:00 UTC is already tomorrow in India: the quota's day turns at IST midnight (18:30 UTC).
    assert budget.day(datetime(2026, 12, 2, 19, 0, tzinfo=UTC)) == date(2026, 12, 3)
    assert budget.day(datetime(2026, 12, 2, 18, 0, tzinfo=UTC)) == date(2026, 12, 2)


def test_which_labels_are_written(settings):
    frugal = settings.model_copy(update={"TRACKING_WRITE_LABELS": None})
    assert writes_label(frugal, "RTO Initiated") and writes_label(frugal, "AWB Assigned")
    assert not writes_label(frugal, "In Transit") and not writes_label(frugal, "Delivered")
    assert writes_label(frugal.model_copy(update={"ZOHO_RECORD_DELIVERY": False}), "Delivered")
    chosen = settings.model_copy(update={"TRACKING_WRITE_LABELS": ["out_for_delivery", "Pickup Scheduled"]})
    assert writes_label(chosen, "Out for Delivery", "out_for_delivery") and writes_label(chosen, "Pickup Scheduled")
    assert not writes_label(chosen, "RTO Initiated", "rto_initiated")


async def test_every_zoho_call_is_counted_once_for_all_processes(svc, zoho_sim):
    other = build_services(svc.settings)  # a second process's services: same Redis, same org
    try:
        so_id = confirmed_order(zoho_sim)
        mark = len(zoho_sim.calls)
        await svc.zoho.get_salesorder(so_id)
        current = await other.zoho.get_salesorder(so_id)
        await other.zoho.update_salesorder_custom_fields(so_id, {"cf_shipment_status": "x"}, current)
        usage = await zoho_usage_today(svc.zoho.budget, svc.sessionmaker)
    finally:
        await other.close()
    assert len(zoho_sim.calls) - mark == 3
    assert usage.used == 3 and usage.budget == 5000 and usage.deferred_pending == 0
    assert usage.day == svc.zoho.budget.day() and usage.remaining == 4997 and not usage.deferring


async def test_near_the_budget_labels_wait_but_awb_and_stock_writes_go(svc, shiprocket_sim, zoho_sim):
    budget = svc.zoho.budget
    async with stack(svc) as client:
        await fill(budget, budget.budget - budget.reserve)  # nearly spent before this order arrives
        so_id, sh = await shipped(svc, client, zoho_sim, terms="COD", qty=1)
        assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb  # the AWB write-back still went
        for body in bodies(shiprocket_sim, sh.awb, RTO[:6]):  # .. picked up, NDR, RTO initiated
            await post(client, body)
            await settled(svc, so_id, from_shipment_id(body["shipment_status_id"]).value, timeout=20)
        [package] = zoho_sim.salesorder(so_id)["packages"]
        assert package["tracking_number"] == sh.awb  # stock left Zoho at pickup, budget or not
        assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "AWB Assigned"  # labels waited
        [row] = await deferred(svc)
        assert row.salesorder_id == so_id and row.values == {"cf_shipment_status": "RTO Initiated"}  # latest only
        assert (await zoho_usage_today(svc.zoho.budget, svc.sessionmaker)).deferred_pending == 1

        # Still nearly spent: the flush writes nothing.
        assert await flush_deferred_writes(svc.zoho, svc.sessionmaker) == 0
        # Zoho's day turns (a new day's counter starts empty): the sweeper's flush writes the latest label.
        await (await svc.queue.pool()).delete(budget._key(budget.day()))
        mark = len(zoho_sim.calls)
        await eventually(lambda: _flushed(svc), timeout=10)
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "RTO Initiated"
    assert [c for c in zoho_sim.calls[mark:] if c[0] == "PUT"] == [("PUT", f"/inventory/v1/salesorders/{so_id}")]


async def _flushed(svc) -> bool:
    from app.jobs import flush_zoho_deferred

    await flush_zoho_deferred(svc)  # the worker's cron job
    return not await deferred(svc)


async def test_deferred_writes_flush_in_order_latest_values_none_lost(svc, zoho_sim):
    budget = svc.zoho.budget
    first, second = confirmed_order(zoho_sim), confirmed_order(zoho_sim)
    await fill(budget, budget.budget)
    for so_id, label in ((first, "Undelivered"), (second, "Cancelled"), (first, "RTO Initiated")):
        assert await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": label}) is None
    rows = await deferred(svc)
    assert [(r.salesorder_id, r.values["cf_shipment_status"]) for r in rows] == [(first, "RTO Initiated"),
                                                                                (second, "Cancelled")]
    await (await svc.queue.pool()).delete(budget._key(budget.day()))
    mark = len(zoho_sim.calls)
    assert await flush_deferred_writes(svc.zoho, svc.sessionmaker) == 2
    # Neither order has a shipment here, so no copy of it was kept: each PUT restates a fresh read.
    assert [c for c in zoho_sim.calls[mark:] if c[0] == "PUT"] == [("PUT", f"/inventory/v1/salesorders/{first}"),
                                                                 ("PUT", f"/inventory/v1/salesorders/{second}")]
    assert zoho_sim.custom_field(first, "cf_shipment_status") == "RTO Initiated"
    assert zoho_sim.custom_field(second, "cf_shipment_status") == "Cancelled"
    assert await deferred(svc) == []
    # A write made now supersedes nothing stale: it goes straight through and leaves no row behind.
    assert await write_status_fields(svc.zoho, svc.sessionmaker, first, {"cf_shipment_status": "Returned"})
    assert await deferred(svc) == [] and await budget.used() == len(zoho_sim.calls[mark:])


async def test_a_label_written_now_replaces_one_deferred_earlier(svc, zoho_sim):
    budget = svc.zoho.budget
    so_id = confirmed_order(zoho_sim)
    await fill(budget, budget.budget)
    await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": "Undelivered"})
    await (await svc.queue.pool()).delete(budget._key(budget.day()))
    await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": "Returned"})
    assert await deferred(svc) == []  # the older deferred label can never overwrite the newer one
    assert await flush_deferred_writes(svc.zoho, svc.sessionmaker) == 0
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Returned"


async def test_zohos_own_count_of_the_day_stops_labels_too(svc, zoho_sim):
    """The seller's other apps spend the same quota: when Zoho says little is left, labels wait."""
    so_id = confirmed_order(zoho_sim)
    zoho_sim.quota.configure(per_day=5000)
    with zoho_sim.quota._lock:
        zoho_sim.quota.day_used = 4600  # other apps' calls today
    await svc.zoho.get_salesorder(so_id)
    usage = await zoho_usage_today(svc.zoho.budget, svc.sessionmaker)
    assert usage.used == 1 and usage.zoho_remaining == 399 and usage.deferring
    assert await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": "Undelivered"}) is None
    assert [r.salesorder_id for r in await deferred(svc)] == [so_id]


# --- The per-minute window: labels yield to AWB writes, parked in the same table (issue 9) ---

async def busy_window(svc) -> None:
    """An AWB or money write is waiting for the next quarter (as under a backlog): labels must yield."""
    await (await svc.queue.pool()).set(svc.zoho.limiter.busy_key, "1")


async def free_window(svc) -> None:
    await (await svc.queue.pool()).delete(svc.zoho.limiter.busy_key)


async def test_a_label_yields_to_an_awb_write_when_the_window_is_busy(svc, zoho_sim):
    so_id = confirmed_order(zoho_sim)
    current = await svc.zoho.get_salesorder(so_id)
    await busy_window(svc)
    mark = len(zoho_sim.calls)
    for label in ("Pickup Scheduled", "Undelivered"):  # two labels while busy: the later one replaces the first
        assert await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": label},
                                         current) is None
    assert zoho_sim.calls[mark:] == []  # neither took a call
    [row] = await deferred(svc)
    assert row.values == {"cf_shipment_status": "Undelivered"}
    # The AWB write goes at once, window busy or not.
    await svc.zoho.update_salesorder_custom_fields(so_id, {"cf_awb_number": "AWB-1"}, current)
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == "AWB-1"
    assert svc.zoho.limiter.waited == 0
    # Still busy: the flush writes nothing and keeps the row.
    assert await flush_deferred_writes(svc.zoho, svc.sessionmaker) == 0 and len(await deferred(svc)) == 1
    await free_window(svc)
    mark = len(zoho_sim.calls)
    await eventually(lambda: _flushed(svc), timeout=10)  # the sweeper writes it
    assert await flush_deferred_writes(svc.zoho, svc.sessionmaker) == 0  # and only once
    assert [c for c in zoho_sim.calls[mark:] if c[0] == "PUT"] == [("PUT", f"/inventory/v1/salesorders/{so_id}")]
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Undelivered"  # the latest status
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == "AWB-1"  # restating the order kept the AWB


async def test_the_flush_stops_when_the_window_turns_busy_and_loses_nothing(svc, zoho_sim):
    first, second = confirmed_order(zoho_sim), confirmed_order(zoho_sim)
    await busy_window(svc)
    for so_id, label in ((first, "Cancelled"), (second, "Returned")):
        assert await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": label}) is None
    await free_window(svc)
    # AWB writes have taken all but two of the labels' share of this quarter (and of the next two, should
    # the flush straddle a boundary): the first order's read and PUT fit, the second's do not.
    limiter = svc.zoho.limiter
    pool = await svc.queue.pool()
    quarter = int(time.time() // limiter._slot_seconds)
    for q in range(quarter, quarter + 3):
        await pool.set(f"{limiter._prefix}:{q}", limiter._cosmetic_limit - 2, ex=120)
    assert await flush_deferred_writes(svc.zoho, svc.sessionmaker) == 1
    await free_window(svc)
    for q in range(quarter, quarter + 3):
        await pool.delete(f"{limiter._prefix}:{q}")
    assert [r.salesorder_id for r in await deferred(svc)] == [second]  # kept for the next sweep
    assert await flush_deferred_writes(svc.zoho, svc.sessionmaker) == 1
    assert zoho_sim.custom_field(first, "cf_shipment_status") == "Cancelled"
    assert zoho_sim.custom_field(second, "cf_shipment_status") == "Returned"
    assert await deferred(svc) == []


async def test_the_flush_waits_for_later_quarters_within_its_time(svc, zoho_sim):
    """Labels get a share of every quarter: a flush given time writes the whole backlog across quarters;
    one given none stops at the first refusal and leaves the rest, none lost, for the next sweep."""
    narrow = svc.settings.model_copy(update={"ZOHO_MAX_CALLS_PER_WINDOW": 8, "ZOHO_RATE_WINDOW_SECONDS": 2.0})
    proc = build_services(narrow, engine=svc.engine)  # quarters of half a second; labels 1 call in each
    try:
        await proc.zoho.token.get()
        so_ids = [confirmed_order(zoho_sim) for _ in range(3)]
        await busy_window(proc)
        for so_id in so_ids:  # no shipment, so each later write reads first: one label a quarter
            parked = await write_status_fields(proc.zoho, proc.sessionmaker, so_id, {"cf_shipment_status": "Lost"})
            assert parked is None
        await free_window(proc)
        assert await flush_deferred_writes(proc.zoho, proc.sessionmaker) == 1  # then the quarter is full
        assert len(await deferred(proc)) == 2
        assert await flush_deferred_writes(proc.zoho, proc.sessionmaker, max_wait=30) == 2
        assert proc.zoho.limiter.cosmetic_refused > 0  # it did meet full quarters, and waited them out
    finally:
        await proc.queue.close()
        await proc.http.aclose()
    assert await deferred(svc) == []
    assert [zoho_sim.custom_field(so_id, "cf_shipment_status") for so_id in so_ids] == ["Lost"] * 3


async def test_two_sweeps_at_once_write_each_parked_label_once(svc, zoho_sim):
    """A sweep that waits for room can outlive the sweep interval: the next one must not write the same
    parked labels again."""
    import asyncio

    from app.jobs import flush_zoho_deferred

    so_ids = [confirmed_order(zoho_sim) for _ in range(3)]
    await busy_window(svc)
    for so_id in so_ids:
        await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": "Cancelled"})
    await free_window(svc)
    mark = len(zoho_sim.calls)
    written = await asyncio.gather(*(flush_zoho_deferred(svc, datetime.now(UTC)) for _ in range(2)))
    assert sorted(written) == [0, 3]
    puts = [c for c in zoho_sim.calls[mark:] if c[0] == "PUT"]
    assert sorted(puts) == sorted(("PUT", f"/inventory/v1/salesorders/{so_id}") for so_id in so_ids)
    assert await deferred(svc) == []
