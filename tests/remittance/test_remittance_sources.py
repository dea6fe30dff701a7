"""The poller against Shiprocket's real remittance API shape (simulated over HTTP), the webhook and the
poller delivering one batch (each line recorded once, whichever came first), and the payment POST
going wrong after Books may have recorded it (a crash before our commit, a 502): the rerun adopts the
payment, never pays twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from app.main import create_app
from app.models import Shipment
from app.remittance import repository as repo
from app.remittance import service
from app.remittance.poller import poll_remittances
from app.remittance.reconcile import allocate
from sandbox.faults import NGINX_HTML
from sandbox.shiprocket_remittance import listing_row
from tests.harness import api_client, eventually
from tests.remittance.helpers import (
    OPS,
    TODAY,
    books_posts,
    inbox_settled,
    invoice_of,
    lines,
    payments_for,
    post_remittance,
    remit,
    remittances,
    settled,
    shipped_orders,
    worker,
)
from tests.spine_helpers import alerts

LISTING_PATH = "/account/details/remittance"
PAYMENTS = "/books/v3/customerpayments"


async def test_poller_alone_records_a_batch_with_its_deductions_apportioned(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        [older] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, prefix="SO-OLD")  # not in it
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 3)
        [in_transit] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, delivered=False, prefix="SO-T")
        await _booked_days_ago(svc, older, 2)
        [ancient] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, prefix="SO-ANC")
        await _booked_days_ago(svc, ancient, 60)  # before the order look-back: never read for this batch
        body = remit(shiprocket_sim, shipments, ["40.00", "50.00", "10.01"])  # 100.01 in the batch
        shiprocket_sim.calls.clear()
        first = await poll_remittances(svc)
        found = await eventually(settled(svc, 3))
        calls_after_first = list(shiprocket_sim.calls)
        second = await poll_remittances(svc)
        await eventually(inbox_settled(svc))
    assert (first.batches_new, first.events_stored) == (1, 1)
    # Newest first: the parcel in transit, then the batch's three; reading stops once the batch's gross is
    # accounted for, so the older order is never read (nor the one from before the look-back).
    assert first.orders_read == 4
    shows = [path for _, path in calls_after_first if path.startswith("/orders/show/")]
    assert len(shows) == 4 and f"/orders/show/{older.sr_order_id}" not in shows
    assert (second.batches_new, second.orders_read) == (0, 0)  # a quiet poll: one listing call, no order reads
    assert shiprocket_sim.calls[len(calls_after_first):] == [("GET", LISTING_PATH)]
    [rem] = await remittances(svc)
    assert rem.remittance_id == body["remittance_id"] and rem.utr and rem.sources == "poller"
    assert rem.bank_transfer_amount == Decimal(body["bank_transfer_amount"])
    assert {ln.awb for ln in found} == {sh.awb for sh in shipments} and in_transit.awb not in {ln.awb for ln in found}
    assert all(ln.state == "paid" and ln.deductions_allocated for ln in found)
    assert sum(ln.deducted_charges for ln in found) == Decimal("100.01")  # the batch's deduction, to the paisa
    by_awb = {ln.awb: ln for ln in found}
    for sh in shipments:
        line = by_awb[sh.awb]
        [payment] = payments_for(zoho_sim, rem.remittance_id, sh.awb)
        assert Decimal(str(payment["bank_charges"])) == line.deducted_charges
        assert invoice_of(zoho_sim, sh.salesorder_id)["balance"] == 0
    assert await alerts(svc, "remittance_mismatch") == []  # lines add up to the bank transfer


@pytest.mark.parametrize("first", ["webhook", "poller", "webhook_keyed_by_utr"])
async def test_same_remittance_from_webhook_and_poller_records_each_line_once(first, svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 2)
        body = remit(shiprocket_sim, shipments, ["35.00", "45.00"])
        if first == "webhook_keyed_by_utr":
            # A feed that names the batch by its bank UTR instead of Shiprocket's crf_id: still one batch.
            body["remittance_id"] = shiprocket_sim.remittances[-1]["utr"]
            first = "webhook"
        if first == "webhook":
            await post_remittance(client, body)
            await eventually(settled(svc, 2))
            polled = await poll_remittances(svc)
            # The webhook's lines already account for the batch's gross: no order is read.
            assert (polled.batches_new, polled.orders_read, polled.events_stored) == (1, 0, 1)
        else:
            await poll_remittances(svc)
            await eventually(settled(svc, 2))
            await post_remittance(client, body)
        await eventually(lambda: _sources(svc, "poller,webhook"))
        found = await eventually(settled(svc, 2))
    [rem] = await remittances(svc)
    assert rem.remittance_id == body["remittance_id"]  # named by whichever source stored it first
    assert rem.utr == shiprocket_sim.remittances[-1]["utr"]  # the UTR comes from the API listing
    assert len(found) == 2 and {ln.source for ln in found} == {first}
    assert all(ln.state == "paid" for ln in found)
    for sh in shipments:
        assert len(payments_for(zoho_sim, rem.remittance_id, sh.awb)) == 1
        assert invoice_of(zoho_sim, sh.salesorder_id)["balance"] == 0
    assert books_posts(zoho_sim) == 2
    # Whoever stored a line first decides its deductions: the webhook itemises them, the poller
    # apportions the batch's 80.00 by COD amount; either way the batch total is the same.
    cuts = [ln.deducted_charges for ln in found]
    if first == "webhook":
        assert cuts == [Decimal("35.00"), Decimal("45.00")] and not any(ln.deductions_allocated for ln in found)
    else:
        assert cuts == allocate(Decimal("80.00"), [ln.cod_amount for ln in found]) != [Decimal("35.00"),
                                                                                        Decimal("45.00")]
    assert sum(cuts) == Decimal("80.00")


async def _booked_days_ago(svc, shipment, days: int) -> None:
    async with svc.sessionmaker.begin() as s:
        await s.execute(update(Shipment).where(Shipment.id == shipment.id).values(
            created_at=datetime.now(UTC) - timedelta(days=days), delivered_at=None))


async def _sources(svc, expected: str) -> bool:
    return [r.sources for r in await remittances(svc)] == [expected]


async def test_crash_between_books_reply_and_our_commit_does_not_pay_twice(svc, shiprocket_sim, zoho_sim,
                                                                          monkeypatch):
    real = service._payment_recorded
    crashes = []

    async def crash_once(*args, **kwargs):
        if not crashes:  # Books has created the payment; we die before recording it
            crashes.append(args[1].awb)
            raise RuntimeError("worker killed between Zoho's reply and our commit")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "_payment_recorded", crash_once)
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc, cron=True):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 3)
        body = remit(shiprocket_sim, shipments, ["25.00", "25.00", "25.00"])
        rid = body["remittance_id"]
        await post_remittance(client, body)
        # The settle job dies; the sweeper re-queues the remittance; the rerun finds the payment in Books.
        found = await eventually(settled(svc, 3), timeout=20)
        await eventually(lambda: _all_written_back(svc))
    assert len(crashes) == 1
    assert books_posts(zoho_sim) == 3  # one payment per line, none repeated
    by_awb = {ln.awb: ln for ln in found}
    crashed = by_awb[crashes[0]]
    [payment] = payments_for(zoho_sim, rid, crashed.awb)
    assert crashed.state == "paid" and crashed.payment_id == payment["payment_id"]
    assert "adopted" in (crashed.detail or "")
    for sh in shipments:
        assert len(payments_for(zoho_sim, rid, sh.awb)) == 1
        invoice = invoice_of(zoho_sim, sh.salesorder_id)
        assert invoice["balance"] == 0 and invoice["payment_made"] == invoice["total"]
    assert all(ln.state == "paid" for ln in await lines(svc))


async def test_a_large_remittance_is_settled_in_chunks_by_follow_up_jobs(svc, shiprocket_sim, zoho_sim, monkeypatch):
    monkeypatch.setattr(service, "SETTLE_CHUNK", 2)
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 5)
        zoho_before = len(zoho_sim.calls)
        await post_remittance(client, remit(shiprocket_sim, shipments, ["10.00"] * 5))
        found = await eventually(settled(svc, 5))
        await eventually(lambda: _all_written_back(svc))
    assert all(ln.state == "paid" for ln in found) and books_posts(zoho_sim) == 5
    searches = [c for c in zoho_sim.calls[zoho_before:] if c == ("GET", PAYMENTS)]
    assert searches == []  # no line was ever posted before, so Books has nothing of ours to look for


async def _all_written_back(svc) -> bool:
    return all(ln.so_updated for ln in await lines(svc))


@pytest.mark.parametrize("recorded", [False, True], ids=["502_not_recorded", "502_after_books_recorded_it"])
async def test_payment_post_answering_502_is_retried_by_the_job_and_paid_once(recorded, svc, shiprocket_sim,
                                                                               zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        [sh] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1)
        body = remit(shiprocket_sim, [sh], ["25.00"])
        rid = body["remittance_id"]
        # The HTTP layer never re-sends this POST (retry_uncertain=False): the 502 reaches the job, which
        # arq runs again; the line was stamped before the POST, so the rerun searches Books first.
        zoho_sim.faults.inject(PAYMENTS, method="POST", status=502, after=recorded,
                               body=NGINX_HTML.format(status=502, reason="Bad Gateway"))
        await post_remittance(client, body)
        [line] = await eventually(settled(svc, 1), timeout=20)
        await eventually(lambda: _all_written_back(svc))
    [payment] = zoho_sim.find_payments()
    assert payment["reference_number"] == f"{rid}/{sh.awb}" and line.payment_id == payment["payment_id"]
    assert line.state == "paid" and line.posting_at is not None
    assert ("adopted" in (line.detail or "")) is recorded
    assert books_posts(zoho_sim) == (1 if recorded else 2)  # the refused-by-502 POST, then the real one
    assert invoice_of(zoho_sim, sh.salesorder_id)["balance"] == 0


async def test_poller_updating_the_bank_transfer_raises_the_mismatch_with_nothing_left_to_settle(
        svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 2)
        body = remit(shiprocket_sim, shipments, ["30.00", "30.00"])
        await post_remittance(client, body)
        await eventually(settled(svc, 2))
        await eventually(lambda: _all_written_back(svc))
        assert await alerts(svc, "remittance_mismatch") == []
        shiprocket_sim.remittances[-1]["net"] -= Decimal("12.50")  # the bank got less than the webhook said
        posts = books_posts(zoho_sim)
        polled = await poll_remittances(svc)
        [alert] = await eventually(lambda: alerts(svc, "remittance_mismatch"))
        await eventually(inbox_settled(svc))
    assert (polled.batches_new, polled.orders_read, polled.events_stored) == (1, 0, 1)
    assert "difference ₹-12.50" in alert.message and body["remittance_id"] in alert.message
    assert books_posts(zoho_sim) == posts  # nothing re-settled


async def test_an_unreadable_listing_row_is_skipped_with_an_alert_and_the_poll_moves_on(svc, shiprocket_sim,
                                                                                       zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1)
        remit(shiprocket_sim, shipments)
        good = listing_row(shiprocket_sim.remittances[-1])
        junk = {**good, "crf_id": 99999, "utr": "UTRJUNK", "remitted_value": "₹1,200.00"}
        shiprocket_sim.faults.inject(LISTING_PATH, method="GET", body={
            "data": [junk, good], "meta": {"pagination": {"current_page": 1, "total_pages": 1}}})
        polled = await poll_remittances(svc)
        await eventually(settled(svc, 1))
        async with svc.sessionmaker() as s:
            through = await repo.polled_through(s)
    assert polled.batches_listed == 1 and polled.events_stored == 1
    assert len(polled.rows_skipped) == 1 and "99999" in polled.rows_skipped[0]
    assert through is not None  # the poll completed and its cursor moved on
    [alert] = await alerts(svc, "remittance_unreadable")
    assert "remitted_value is not an amount" in alert.message


async def test_poll_since_back_fills_a_batch_older_than_the_last_poll_window(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1)
        await poll_remittances(svc)  # the first poll: nothing yet
        for sh in shipments:
            await _booked_days_ago(svc, sh, 25)
        remit(shiprocket_sim, shipments, day=TODAY - timedelta(days=15))  # 15 days back: beyond the overlap
        quiet = await poll_remittances(svc)
        backfill = await poll_remittances(svc, since=TODAY - timedelta(days=20))
        await eventually(settled(svc, 1))
        async with svc.sessionmaker() as s:
            state = await repo.poll_state(s)
        view = (await client.get("/ops/remittances", headers=OPS)).json()
    assert (quiet.batches_listed, backfill.batches_new, backfill.events_stored) == (0, 1, 1)
    assert state is not None and state.polled_from == TODAY - timedelta(days=20) and state.polled_through == TODAY
    assert view["poller"]["polled_from"] == (TODAY - timedelta(days=20)).isoformat() and view["poller"]["polled_at"]
