"""Shiplee's COD remittances (GET /api/cod_remittance, grouped by AWB) become Books customer payments
through the same path as Shiprocket's: gross applied, Shiplee's fee and GST as bank charges, exactly
once however often it is polled, reconciled against what we expected the courier to collect; and the
poller reads both aggregators in one run."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.main import create_app
from app.remittance.poller import poll_remittances
from sandbox.shiplee import ShipleeSim
from tests.harness import api_client, eventually
from tests.remittance.helpers import (
    OPS,
    TODAY,
    books_posts,
    inbox_settled,
    invoice_of,
    payments_for,
    remit,
    settled,
    shipped_orders,
    worker,
)
from tests.shiplee_helpers import shiplee_shipped, svc  # noqa: F401 - svc: both aggregators configured
from tests.spine_helpers import alerts


async def _delivered(svc, client, zoho_sim, shiplee_sim: ShipleeSim):  # noqa: F811, ANN202
    so_id, sh = await shiplee_shipped(svc, client, zoho_sim, terms="COD", invoiced=True)
    shiplee_sim.advance(sh.awb, "delivered")  # also lists a pending D+7 row: not paid, never recorded
    return so_id, sh


async def test_shiplee_remittance_becomes_one_books_payment(svc, shiplee_sim, shiprocket_sim, zoho_sim):  # noqa: F811
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        so_id, sh = await _delivered(svc, client, zoho_sim, shiplee_sim)
        amount = sh.declared_value
        pending_only = await poll_remittances(svc)
        row = shiplee_sim.add_remittance([sh.awb], amount, status="completed", utr="SLUTR0001",
                                         remittance_date=TODAY)
        first = await poll_remittances(svc)
        [line] = await eventually(settled(svc, 1))
        posts = books_posts(zoho_sim)
        second = await poll_remittances(svc)
        await eventually(inbox_settled(svc))

    assert pending_only.events_stored == 0  # announced, not paid: nothing for Books yet
    assert (first.batches_new, first.events_stored) == (1, 1) and second.events_stored == 0
    assert books_posts(zoho_sim) == posts == 1  # exactly once
    batch_id = f"SL-{row['remittance_ids'].split(',')[0]}"
    deductions = row["total_base_charge"] + row["total_gst_component"]
    assert (line.remittance_id, line.state, line.problem) == (batch_id, "paid", None)
    assert (line.cod_amount, line.deducted_charges, line.deductions_allocated) == (amount, deductions, False)
    [payment] = payments_for(zoho_sim, batch_id, sh.awb)
    assert Decimal(str(payment["amount"])) == amount and Decimal(str(payment["bank_charges"])) == deductions
    assert "Shiplee COD remittance" in payment["description"] and "SLUTR0001" in payment["description"]
    assert invoice_of(zoho_sim, so_id)["balance"] == Decimal("0.00")
    assert await alerts(svc, "remittance_mismatch") == []


async def test_shiplee_remittance_short_of_the_invoice_is_flagged(svc, shiplee_sim, zoho_sim):  # noqa: F811
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        so_id, sh = await _delivered(svc, client, zoho_sim, shiplee_sim)
        short = sh.declared_value - Decimal(100)
        shiplee_sim.add_remittance([sh.awb], short, status="completed", utr="SLUTR0002",
                                   remittance_date=TODAY)
        await poll_remittances(svc)
        [line] = await eventually(settled(svc, 1))

    assert (line.state, line.problem, line.cod_amount) == ("paid", "amount_differs", short)
    assert "short of invoice" in (line.detail or "")
    assert invoice_of(zoho_sim, so_id)["balance"] == Decimal(100)  # the rest stays open for a person


async def test_a_grouped_row_that_does_not_add_up_raises_the_mismatch(svc, shiplee_sim, zoho_sim):  # noqa: F811
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        _, one = await _delivered(svc, client, zoho_sim, shiplee_sim)
        _, two = await _delivered(svc, client, zoho_sim, shiplee_sim)
        expected = one.declared_value + two.declared_value
        row = shiplee_sim.add_remittance([one.awb, two.awb], expected - Decimal(50), status="completed",
                                         utr="SLUTR0003", remittance_date=TODAY)
        await poll_remittances(svc)
        found = await eventually(settled(svc, 2))

    # Shiplee gives amounts per group only: each line takes what we expected, and the shortfall shows.
    assert sorted(ln.cod_amount for ln in found) == sorted([one.declared_value, two.declared_value])
    assert all(ln.deductions_allocated for ln in found)
    assert sum(ln.deducted_charges for ln in found) == row["total_base_charge"] + row["total_gst_component"]
    [mismatch] = await alerts(svc, "remittance_mismatch")
    assert mismatch.message.endswith("(difference ₹-50.00)")


async def test_poller_reads_both_aggregators_in_one_run(svc, shiplee_sim, shiprocket_sim, zoho_sim):  # noqa: F811
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        [sr_shipment] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, prefix="SO-SR")
        _, sl_shipment = await _delivered(svc, client, zoho_sim, shiplee_sim)
        remit(shiprocket_sim, [sr_shipment])
        shiplee_sim.add_remittance([sl_shipment.awb], sl_shipment.declared_value, status="completed",
                                   utr="SLUTR0004", remittance_date=TODAY)
        result = await poll_remittances(svc)
        found = await eventually(settled(svc, 2))
        view = (await client.get("/ops/remittances", headers=OPS)).json()

    assert (result.batches_new, result.events_stored) == (2, 2)
    assert set(view["pollers"]) == {"shiprocket", "shiplee"} and view["pollers"]["shiplee"]["polled_through"]
    assert {(ln.awb, ln.state) for ln in found} == {(sr_shipment.awb, "paid"), (sl_shipment.awb, "paid")}
    assert {ln.remittance_id.startswith("SL-") for ln in found} == {True, False}


async def test_shiprocket_down_does_not_keep_shiplees_money_from_books(svc, shiplee_sim, shiprocket_sim,  # noqa: F811
                                                                       zoho_sim):
    from app.integrations.http import UpstreamError

    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        _, sh = await _delivered(svc, client, zoho_sim, shiplee_sim)
        shiplee_sim.add_remittance([sh.awb], sh.declared_value, status="completed", utr="SLUTR0005",
                                   remittance_date=TODAY)
        shiprocket_sim.faults.server_error("/account/details/remittance", status=503, times=50)
        with pytest.raises(UpstreamError):  # the job still fails, so the next run reads Shiprocket again
            await poll_remittances(svc)
        [line] = await eventually(settled(svc, 1))

    assert (line.awb, line.state) == (sh.awb, "paid")
