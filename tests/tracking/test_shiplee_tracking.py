"""Shiplee parcels are tracked by polling (Shiplee has no tracking webhook) through the same ingest, fold
and effects as Shiprocket's: never backwards, each effect once; returns and NDR, which Shiplee has no
API for, are refused clearly; the agreement gate stops the pollers without a retry loop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.ops.actions import ndr_request
from app.remittance.poller import poll_remittances
from app.tracking.poller import poll_tracking
from app.tracking.returns import ReturnRefused, request_return
from sandbox.shiplee import ShipleeSim
from tests.shiplee_helpers import due, shiplee_shipped, svc  # noqa: F401 - svc: both aggregators configured
from tests.spine_helpers import alerts, shipment
from tests.tracking.helpers import effects, events, settled, stack, stock


def searches(sim: ShipleeSim) -> int:
    return sum(1 for call in sim.calls if call == ("POST", "/api/search_orders"))


async def test_shiplee_parcel_polled_to_delivered_is_recorded_in_zoho_once(svc, shiplee_sim, zoho_sim):  # noqa: F811
    async with stack(svc) as client:
        so_id, sh = await shiplee_shipped(svc, client, zoho_sim, terms="Prepaid")
        before = stock(zoho_sim, sh)
        at = due(svc)
        quiet = await poll_tracking(svc, now=at)  # booked: nothing new to apply, but it was asked
        shiplee_sim.advance(sh.awb, "in_transit")
        moving = await poll_tracking(svc, now=at + timedelta(hours=1))
        await settled(svc, so_id, "in_transit")
        again = await poll_tracking(svc, now=at + timedelta(hours=2))  # same status again: same event
        shiplee_sim.advance(sh.awb, "delivered")
        delivered = await poll_tracking(svc, now=at + timedelta(hours=3))
        done = await settled(svc, so_id, "delivered")
        asked = searches(shiplee_sim)
        after = await poll_tracking(svc, now=at + timedelta(hours=4))

    assert (quiet.polled, moving.polled, again.polled, delivered.polled) == (1, 1, 1, 1)
    assert (moving.answered, again.answered, again.unchanged) == (1, 0, 1)  # the same status: no fold again
    assert after.polled == 0 and searches(shiplee_sim) == asked  # delivered is final: never asked again
    history = await events(svc, sh.awb)
    assert [(e.source, e.status, e.shipment_status, e.scheme) for e in history] == [
        ("poll", "awb_assigned", "booked", "shiplee:status"), ("poll", "in_transit", "in_transit", "shiplee:status"),
        ("poll", "delivered", "delivered", "shiplee:status")]  # Shiplee's own words kept on every event
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Delivered"
    [package] = zoho_sim.salesorder(so_id)["packages"]
    assert package["tracking_number"] == sh.awb and package["shipment_status"] == "delivered"
    assert len(zoho_sim.shipments) == 1 and stock(zoho_sim, sh) == before - 2  # stock left once
    fx = await effects(svc, so_id)
    assert fx["shipment:zoho_delivered"].state == "done" and fx["shipment:zoho_delivered"].attempts == 1
    assert done.tracking_final and done.delivered_at is not None


async def test_shiplee_status_going_backwards_is_recorded_and_ignored(svc, shiplee_sim, zoho_sim):  # noqa: F811
    async with stack(svc) as client:
        so_id, sh = await shiplee_shipped(svc, client, zoho_sim, terms="Prepaid")
        at = due(svc)
        shiplee_sim.advance(sh.awb, "in_transit")
        await poll_tracking(svc, now=at)
        await settled(svc, so_id, "in_transit")
        shiplee_sim.advance(sh.awb, "manifested")  # an older status shown again
        await poll_tracking(svc, now=at + timedelta(hours=1))
        await settled(svc, so_id, "in_transit")

    [*_, backwards] = await events(svc, sh.awb)
    assert (backwards.status, backwards.shipment_status) == ("pickup_scheduled", "manifested")
    assert backwards.outcome == "recorded only: would move in_transit to pickup_scheduled (never backwards)"
    assert (await shipment(svc, so_id)).tracking_status == "in_transit"  # type: ignore[union-attr]


async def test_shiplee_rto_is_restocked_exactly_once(svc, shiplee_sim, zoho_sim):  # noqa: F811
    async with stack(svc) as client:
        so_id, sh = await shiplee_shipped(svc, client, zoho_sim, terms="COD", qty=3, invoiced=True)
        before = stock(zoho_sim, sh)
        at = due(svc)
        for n, (word, ours) in enumerate((("in_transit", "in_transit"), ("rto", "rto_initiated"),
                                          ("rto_delivered", "rto_delivered"))):
            shiplee_sim.advance(sh.awb, word)
            await poll_tracking(svc, now=at + timedelta(hours=n))
            await settled(svc, so_id, ours)
        calls = len(zoho_sim.calls)
        await poll_tracking(svc, now=at + timedelta(hours=9))  # final: not polled, nothing repeated

    assert len(zoho_sim.calls) == calls
    assert stock(zoho_sim, sh) == before  # left with the courier, came back once
    [salesreturn] = zoho_sim.salesreturns.values()
    assert salesreturn["receive_status"] == "received" and f"RTO {sh.awb}" in salesreturn["reason"]
    [note] = zoho_sim.creditnotes.values()
    assert note["reference_number"] == f"RTO {sh.awb}"
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Returned"
    fx = await effects(svc, so_id)
    for step in ("sales_return", "return_receive", "credit_note", "credit_apply"):
        assert (fx[f"shipment:{step}"].state, fx[f"shipment:{step}"].attempts) == ("done", 1)
    assert {a.kind for a in await alerts(svc)} == {"rto_initiated"}


async def test_returns_and_ndr_are_refused_for_shiplee_parcels(svc, shiplee_sim, zoho_sim):  # noqa: F811
    async with stack(svc) as client:
        so_id, sh = await shiplee_shipped(svc, client, zoho_sim, terms="Prepaid")
        shiplee_sim.advance(sh.awb, "undelivered")
        await poll_tracking(svc, now=due(svc))
        await settled(svc, so_id, "undelivered")
        ndr = await ndr_request(svc, so_id, "ndr_reattempt", "")
        shiplee_sim.advance(sh.awb, "delivered")
        await poll_tracking(svc, now=due(svc) + timedelta(hours=1))
        await settled(svc, so_id, "delivered")
        with pytest.raises(ReturnRefused) as refused:
            await request_return(svc, so_id, None, "too small")
        with pytest.raises(ReturnRefused) as again:  # the refused one holds no lines: asked again, same answer
            await request_return(svc, so_id, None, "too small")

    assert (ndr.outcome, ndr.status) == ("refused", 409)
    assert "Shiplee has no API to ask the courier to re-attempt" in ndr.detail and sh.awb in ndr.detail
    assert refused.value.status == 409 and "Shiplee has no API to book a customer return" in str(refused.value)
    assert again.value.status == 409
    assert not [c for c in shiplee_sim.calls if "reverse" in c[1]]


async def test_agreement_gate_alerts_once_and_the_pollers_skip_shiplee_until_accepted(
        svc, shiplee_sim, zoho_sim):  # noqa: F811
    async with stack(svc) as client:
        so_id, sh = await shiplee_shipped(svc, client, zoho_sim, terms="Prepaid")
        shiplee_sim.advance(sh.awb, "in_transit")
        shiplee_sim.publish_agreement(9)
        shiplee_sim.calls.clear()
        at = due(svc)
        first = await poll_tracking(svc, now=at)
        gated = list(shiplee_sim.calls)
        shiplee_sim.calls.clear()
        second = await poll_tracking(svc, now=at + timedelta(hours=1))
        remittance = await poll_remittances(svc)
        skipped_calls = list(shiplee_sim.calls)
        shiplee_sim.agreement_accepted = True  # a person accepted it in Shiplee's panel
        cleared = await poll_tracking(svc, now=at + timedelta(hours=2))
        await settled(svc, so_id, "in_transit")

    # One refused call (and a look at which terms wait), then only the exempt look: never into the gate.
    assert gated == [("POST", "/api/search_orders"), ("GET", "/api/agreement")]
    assert skipped_calls == [("GET", "/api/agreement")] * 2
    assert first.skipped and second.skipped and remittance.skipped and first.polled == second.polled == 0
    assert "accepted" in second.skipped[0]
    [alert] = await alerts(svc, "shiplee_agreement_required")
    assert "accept" in alert.message and "(agreement 9)" in alert.message
    assert cleared.polled == 1 and not cleared.skipped
