"""The poller against Shiprocket's real remittance API shape (simulated over HTTP), the webhook and the
poller delivering one batch (each line recorded once, whichever came first), and a crash between
Zoho's reply and our commit (the rerun adopts the payment, never pays twice)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.main import create_app
from app.remittance import service
from app.remittance.poller import poll_remittances
from app.remittance.reconcile import allocate
from app.remittance.shiprocket_source import LISTING_PATH
from tests.harness import api_client, eventually
from tests.remittance.helpers import (
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


async def test_poller_alone_records_a_batch_with_its_deductions_apportioned(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 3)
        [in_transit] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, delivered=False, prefix="SO-T")
        body = remit(shiprocket_sim, shipments, ["40.00", "50.00", "10.01"])  # 100.01 in the batch
        shiprocket_sim.calls.clear()
        first = await poll_remittances(svc)
        found = await eventually(settled(svc, 3))
        calls_after_first = list(shiprocket_sim.calls)
        second = await poll_remittances(svc)
        await eventually(inbox_settled(svc))
    assert (first.batches_new, first.events_stored) == (1, 1)
    assert first.orders_read <= 4  # our unremitted COD orders, at most once each
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
            await poll_remittances(svc)
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
        # The job dies; the sweeper re-runs the stored event; the rerun finds the payment in Books.
        found = await eventually(settled(svc, 3), timeout=20)
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
    searches = [c for c in zoho_sim.calls[zoho_before:] if c == ("GET", "/books/v3/customerpayments")]
    assert len(searches) == 3  # one reference search per run of 2 lines: 2 + 2 + 1


async def _all_written_back(svc) -> bool:
    return all(ln.so_updated for ln in await lines(svc))
