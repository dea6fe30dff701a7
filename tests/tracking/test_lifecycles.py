"""Whole parcel lives through the real stack: Shiprocket-shaped webhooks into the API, the inbox, the arq
worker on Redis and Postgres, out to the Zoho simulator; and how many Zoho calls each life costs."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

from app.integrations.shiprocket.statuses import from_shipment_id
from tests.harness import OPS_TOKEN
from tests.spine_helpers import alerts
from tests.tracking.helpers import (
    FORWARD,
    RTO,
    bodies,
    drive,
    effects,
    events,
    post,
    settled,
    shipped,
    stack,
    stock,
    writes,
)

OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}


def body_status(body: dict) -> str:
    return from_shipment_id(body["shipment_status_id"]).value


# "Pickup Scheduled" is already on the order (fulfilment wrote it when it requested the pickup), so
# tracking's own Pickup Scheduled event costs nothing.
FORWARD_ZOHO_CALLS = 7  # 4 label changes + package + shipment order + marked delivered
RTO_ZOHO_CALLS = 13  # 6 label changes + package + shipment order + read SO + return + receive + credit note + apply


async def test_forward_lifecycle_ends_delivered_on_the_sales_order(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, terms="COD", qty=2)
        before, mark = stock(zoho_sim, sh), len(zoho_sim.calls)
        await drive(client, shiprocket_sim, sh.awb, FORWARD, svc)
        done = await settled(svc, so_id, "delivered")
        history_view = (await client.get(f"/ops/tracking/{sh.awb}", headers=OPS)).json()
        assert (await client.get(f"/ops/tracking/{sh.awb}")).status_code == 401

    calls = zoho_sim.calls[mark:]
    print(f"\nZoho calls for a full forward lifecycle ({len(FORWARD)} statuses): {len(calls)}: {calls}")
    assert len(calls) == FORWARD_ZOHO_CALLS
    assert sum(1 for m, p in calls if m == "PUT") == 4  # Pickup Scheduled again, In Transit twice, Shipped: nothing
    so = zoho_sim.salesorder(so_id)
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Delivered"
    [package] = so["packages"]
    assert package["tracking_number"] == sh.awb and package["shipment_status"] == "delivered"
    assert so["shipped_status"] == "fulfilled"
    assert stock(zoho_sim, sh) == before - 2  # the shipment order took the stock out, once
    assert done.tracking_final and done.delivered_at is not None
    assert done.delivered_at == max(e.event_at for e in await events(svc, sh.awb))
    history = await events(svc, sh.awb)
    assert [e.shipment_status_id for e in history] == FORWARD  # raw codes kept on every event
    assert [e.status for e in history] == ["pickup_scheduled", "picked_up", "in_transit", "in_transit",
                                           "in_transit", "out_for_delivery", "delivered"]
    assert history[3].outcome == "recorded only: already in_transit"
    assert history_view["tracking_status"] == "delivered" and history_view["label"] == "Delivered"
    assert [e["shipment_status_id"] for e in history_view["events"]] == FORWARD
    assert await alerts(svc) == []


async def test_rto_lifecycle_restocks_once_and_credits_the_invoice(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, terms="COD", qty=3, invoiced=True)
        before, mark = stock(zoho_sim, sh), len(zoho_sim.calls)
        rto = bodies(shiprocket_sim, sh.awb, RTO)
        for body in rto[:6]:  # up to RTO Initiated, one at a time
            await post(client, body)
            await settled(svc, so_id, body_status(body))
        assert stock(zoho_sim, sh) == before - 3  # left with the courier, not restocked on RTO initiation
        [rto_alert] = await alerts(svc, "rto_initiated")
        assert sh.awb in rto_alert.message and "9876543210" in rto_alert.message
        [ndr_alert] = await alerts(svc, "ndr")  # the failed attempt before it, while it could still be saved
        assert sh.awb in ndr_alert.message and "9876543210" in ndr_alert.message
        for body in rto[6:]:
            await post(client, body)
            await settled(svc, so_id, body_status(body))
        done = await settled(svc, so_id, "rto_delivered")
        calls = zoho_sim.calls[mark:]
        # the last event again, and again with a later timestamp: nothing more happens
        again = dict(rto[-1], current_timestamp="01 01 2030 10:00:00")
        for body in (rto[-1], again, rto[5]):
            await post(client, body)
        await settled(svc, so_id, "rto_delivered")

    print(f"\nZoho calls for a full RTO lifecycle ({len(RTO)} statuses, invoiced COD): {len(calls)}: {calls}")
    assert len(calls) == RTO_ZOHO_CALLS
    assert len(zoho_sim.calls) == mark + RTO_ZOHO_CALLS  # the repeats cost nothing
    assert stock(zoho_sim, sh) == before  # restocked exactly once
    [salesreturn] = zoho_sim.salesreturns.values()
    assert salesreturn["receive_status"] == "received" and f"RTO {sh.awb}" in salesreturn["reason"]
    [note] = zoho_sim.creditnotes.values()
    [invoice] = zoho_sim.invoices.values()
    assert note["reference_number"] == f"RTO {sh.awb}" and note["total"] == invoice["total"]
    assert zoho_sim.invoice(invoice["invoice_id"])["balance"] == Decimal("0.00")  # COD never paid: nothing owed
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Returned"
    assert done.rto_initiated_at is not None and done.delivered_at is None and done.tracking_final
    assert {a.kind for a in await alerts(svc)} == {"ndr", "rto_initiated"}


async def test_same_event_ten_times_costs_one_zoho_write(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim)
        mark = len(zoho_sim.calls)
        [body] = bodies(shiprocket_sim, sh.awb, [42])
        answers = [await post(client, body) for _ in range(10)]
        await settled(svc, so_id, "picked_up")
        # ten more reports of the same status, each with a new timestamp: stored, but Zoho hears nothing
        for minute in range(10):
            await post(client, dict(body, current_timestamp=f"01 01 2030 10:{minute:02d}:00"))
        await settled(svc, so_id, "picked_up")

    assert [a.json()["duplicate"] for a in answers] == [False] + [True] * 9
    so_puts = [c for c in writes(zoho_sim, mark) if c[0] == "PUT"]
    assert so_puts == [("PUT", f"/inventory/v1/salesorders/{so_id}")]
    assert len(writes(zoho_sim, mark)) == 3  # the label, and the package + shipment order of the pickup, once
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Picked Up"
    history = await events(svc, sh.awb)
    assert len(history) == 11 and all(e.applied for e in history)


async def test_shuffled_duplicated_concurrent_stream_ends_in_the_right_state(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        (so_fwd, fwd), (so_rto, rto) = [await shipped(svc, client, zoho_sim, qty=2) for _ in range(2)]
        before = stock(zoho_sim, fwd)
        stream = bodies(shiprocket_sim, fwd.awb, FORWARD) + bodies(shiprocket_sim, rto.awb, RTO)
        rng = random.Random(20260501)
        stream += rng.sample(stream, 6)
        rng.shuffle(stream)
        answers = await asyncio.gather(*(post(client, body) for body in stream))
        await settled(svc, so_fwd, "delivered")
        await settled(svc, so_rto, "rto_delivered")

    assert {a.status_code for a in answers} == {200}
    assert zoho_sim.custom_field(so_fwd, "cf_shipment_status") == "Delivered"
    assert zoho_sim.custom_field(so_rto, "cf_shipment_status") == "Returned"
    assert len(zoho_sim.shipments) == 2 and len(zoho_sim.salesreturns) == 1  # one each, whatever the order
    assert stock(zoho_sim, fwd) == before - 2  # same item: the forward's 2 out, the RTO's 2 out and back in
    fx = await effects(svc, so_rto)
    assert fx["shipment:sales_return"].state == "done" and fx["shipment:return_receive"].state == "done"
    assert all(e.applied for e in await events(svc, fwd.awb) + await events(svc, rto.awb))


async def test_non_returnable_item_falls_back_to_an_adjustment_and_says_so(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, sku="SERUM-VITC-30", qty=2, terms="Prepaid")
        before = stock(zoho_sim, sh)
        await drive(client, shiprocket_sim, sh.awb, RTO)
        await settled(svc, so_id, "rto_delivered")

    assert stock(zoho_sim, sh) == before  # back in stock, by adjustment
    assert zoho_sim.salesreturns == {}
    [adjustment] = zoho_sim.adjustments.values()
    assert adjustment["reference_number"] == sh.awb and adjustment["line_items"][0]["quantity_adjusted"] == 2
    [alert] = await alerts(svc, "restock_by_adjustment")
    assert "non-returnable" in alert.message and sh.awb in alert.message
    fx = await effects(svc, so_id)
    assert "refused" in fx["shipment:sales_return"].result and fx["shipment:restock_adjustment"].state == "done"


async def test_lost_shipment_alerts_once_for_a_claim(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim)
        [*moving, lost] = bodies(shiprocket_sim, sh.awb, [42, 18, 12])
        for body in [*moving, lost, lost, dict(lost, current_timestamp="01 01 2030 10:00:00")]:
            await post(client, body)
        done = await settled(svc, so_id, "lost")

    [alert] = await alerts(svc, "lost_in_transit")
    assert "insurance claim" in alert.message and sh.awb in alert.message
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Lost in Transit"
    assert not done.tracking_final  # a lost parcel may still turn up: keep polling it in the lookback window


async def test_recording_delivery_in_zoho_can_be_turned_off(svc, shiprocket_sim, zoho_sim):
    svc.settings.ZOHO_RECORD_DELIVERY = False
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, terms="Prepaid")
        mark = len(zoho_sim.calls)
        await drive(client, shiprocket_sim, sh.awb, FORWARD, svc)
        await settled(svc, so_id, "delivered")

    assert zoho_sim.packages == {} and zoho_sim.shipments == {}
    assert [m for m, _ in zoho_sim.calls[mark:]] == ["PUT"] * 4  # Pickup Scheduled was already there
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Delivered"
