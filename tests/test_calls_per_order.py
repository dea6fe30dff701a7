"""Zoho calls per COD order over its whole life (confirmed -> AWB -> picked up -> delivered -> remitted),
counted from the simulator's request log with the frugal defaults: the daily quota is the seller's
capacity, so this count must not creep up. Counts, never times."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from app.main import create_app
from app.remittance.models import CodRemittanceLine
from app.services import Services, build_services
from app.settings import Settings
from tests.harness import api_client, eventually, running_worker
from tests.remittance.helpers import lines, payments_for, post_remittance, remit, settled
from tests.spine_helpers import confirmed_order, deliver, in_state
from tests.tracking.helpers import FORWARD, drive
from tests.tracking.helpers import settled as tracking_settled

Call = tuple[str, str]
COD_LIFE_ZOHO_CALLS = 6  # AWB write-back, Pickup Scheduled, package, shipment order, delivered, payment


@pytest.fixture
async def frugal(settings: Settings, clean: None) -> AsyncIterator[Services]:
    """Services with the shipped defaults for which labels are written."""
    services = build_services(settings.model_copy(update={"TRACKING_WRITE_LABELS": None,
                                                          "REMITTANCE_WRITE_SALESORDER": False}))
    yield services
    await services.close()


def api_calls(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [c for c in calls if not c[1].startswith("/oauth/")]


async def cod_life(svc: Services, shiprocket_sim, zoho_sim, *, invoice_at_confirmation: bool = True,
                   before_remittance=None, expect_paid: bool = True) -> tuple[str, list[Call], list[Call]]:
    """One COD order's whole life; returns its sales order id, and the Zoho and Shiprocket calls it cost."""
    so_id = confirmed_order(zoho_sim, terms="COD", qty=2)
    if invoice_at_confirmation:
        zoho_sim.invoice_salesorder(so_id)
    zoho_mark, sr_mark = len(zoho_sim.calls), len(shiprocket_sim.calls)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        sh = await eventually(in_state(svc, so_id, "manifested"))
        if not invoice_at_confirmation:
            zoho_sim.invoice_salesorder(so_id)
        await drive(client, shiprocket_sim, sh.awb, FORWARD, svc)
        await tracking_settled(svc, so_id, "delivered")
        if before_remittance is not None:
            before_remittance(so_id)
        body = remit(shiprocket_sim, [sh])
        assert (await post_remittance(client, body)).status_code == 200
        [line] = await eventually(settled(svc, 1))

        async def written_back() -> bool:
            return all(ln.so_updated for ln in await lines(svc))

        if expect_paid:
            await eventually(written_back)
    if expect_paid:
        assert line.state == "paid" and len(payments_for(zoho_sim, body["remittance_id"], sh.awb)) == 1
    return so_id, api_calls(zoho_sim.calls[zoho_mark:]), shiprocket_sim.calls[sr_mark:]


async def test_a_cod_order_costs_six_zoho_calls_from_confirmation_to_remittance(frugal, shiprocket_sim, zoho_sim):
    so_id, zoho_calls, sr_calls = await cod_life(frugal, shiprocket_sim, zoho_sim)
    print(f"\nZoho calls for a COD life: {len(zoho_calls)}: {zoho_calls}\nShiprocket: {len(sr_calls)}: {sr_calls}")
    # An item's package details are read once and cached for every later order of it (app/fulfilment/handler.py).
    item_reads = [c for c in zoho_calls if c[0] == "GET" and c[1].startswith("/inventory/v1/items/")]
    assert len(item_reads) == 1
    assert len(zoho_calls) - len(item_reads) == COD_LIFE_ZOHO_CALLS
    assert not [c for c in zoho_calls if c[0] == "GET" and c not in item_reads]  # the invoice came with the webhook
    so = zoho_sim.salesorder(so_id)
    assert so["packages"][0]["shipment_status"] == "delivered"  # Zoho itself shows the delivery
    assert zoho_sim.custom_field(so_id, "cf_awb_number")
    assert [inv["status"] for inv in so["invoices"]] == ["paid"]
    # Every call was counted against the day's quota, by the same code path every process uses.
    assert await frugal.zoho.budget.used() == len(zoho_calls)


async def test_an_invoice_made_after_the_awb_costs_one_read(frugal, shiprocket_sim, zoho_sim):
    _, zoho_calls, _ = await cod_life(frugal, shiprocket_sim, zoho_sim, invoice_at_confirmation=False)
    so_reads = [c for c in zoho_calls if c[0] == "GET" and "/salesorders/" in c[1]]
    assert len(so_reads) == 1 and len([c for c in zoho_calls if "/items/" not in c[1]]) == COD_LIFE_ZOHO_CALLS + 1


async def test_a_stale_invoice_is_refused_by_books_then_decided_on_a_fresh_read(frugal, shiprocket_sim, zoho_sim):
    def part_pay(so_id: str) -> None:
        # Someone recorded ₹100 against the invoice after we last saw it: our balance is stale.
        [entry] = zoho_sim.salesorder(so_id)["invoices"]
        invoice = zoho_sim.invoice(entry["invoice_id"])
        with zoho_sim._lock:
            zoho_sim._create_payment({"customer_id": invoice["customer_id"], "payment_mode": "cash", "amount": 100,
                                      "date": invoice["date"], "invoices": [{"invoice_id": invoice["invoice_id"],
                                                                             "amount_applied": 100}]})

    so_id, zoho_calls, _ = await cod_life(frugal, shiprocket_sim, zoho_sim, before_remittance=part_pay,
                                          expect_paid=False)
    payments = [c for c in zoho_calls if c == ("POST", "/books/v3/customerpayments")]
    assert len(payments) == 1  # refused (over the live balance): nothing recorded, never re-sent blindly
    assert [c for c in zoho_calls if c[0] == "GET" and "/salesorders/" in c[1]]  # decided on a fresh read
    async with frugal.sessionmaker() as session:
        line = await session.scalar(select(CodRemittanceLine))
    assert line.state == "flagged" and line.problem == "amount_differs" and "exceeds" in line.detail


async def test_a_pickup_label_deferred_by_a_busy_window_still_costs_one_call(frugal, shiprocket_sim, zoho_sim):
    """Under a backlog, Pickup Scheduled yields the rate window to AWB writes (rate_limit.py): it is parked
    and written by the sweeper later, once, so the order's life still costs the same six calls."""
    from app.integrations.zoho.budget import flush_deferred_writes
    from app.integrations.zoho.models import ZohoDeferredWrite

    pool = await frugal.queue.pool()
    await pool.set(frugal.zoho.limiter.busy_key, "1")  # an AWB write of another order is waiting
    so_id, zoho_calls, _ = await cod_life(frugal, shiprocket_sim, zoho_sim)
    assert zoho_sim.custom_field(so_id, "cf_awb_number")  # the AWB went, window busy or not
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "AWB Assigned"  # the label waited
    async with frugal.sessionmaker() as session:
        [row] = (await session.execute(select(ZohoDeferredWrite))).scalars().all()
    assert row.salesorder_id == so_id and row.values == {"cf_shipment_status": "Pickup Scheduled"}
    await pool.delete(frugal.zoho.limiter.busy_key)
    mark = len(zoho_sim.calls)
    assert await flush_deferred_writes(frugal.zoho, frugal.sessionmaker) == 1
    assert await flush_deferred_writes(frugal.zoho, frugal.sessionmaker) == 0  # exactly once
    zoho_calls += api_calls(zoho_sim.calls[mark:])
    item_reads = [c for c in zoho_calls if c[0] == "GET" and c[1].startswith("/inventory/v1/items/")]
    assert len(zoho_calls) - len(item_reads) <= COD_LIFE_ZOHO_CALLS
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Pickup Scheduled"
