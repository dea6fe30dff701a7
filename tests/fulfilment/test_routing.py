"""Booking on two aggregators, end to end: a signed Zoho webhook through the API and the real worker to
the Shiprocket and Shiplee simulators, with choice (rules, cross-aggregator quotes) and every fallback
(unserviceable, AWB failure, an aggregator down, the agreement gate)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.main import create_app
from app.models import ShipmentLog
from app.rules import parse_rules
from app.services import Services
from sandbox.shiplee import ShipleeSim
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim
from tests.harness import api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, deliver, in_state

BOTH = "shiprocket,shiplee"


async def ship(svc: Services, zoho: ZohoSim, so_id: str, *states: str, times: int = 1) -> Any:
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        for _ in range(times):
            assert (await deliver(client, zoho, so_id)).status_code == 200
        return await eventually(in_state(svc, so_id, *states))


async def steps(svc: Services, shipment_id: int) -> list[tuple[str, str]]:
    async with svc.sessionmaker() as s:
        rows = (await s.execute(select(ShipmentLog).where(ShipmentLog.shipment_id == shipment_id)
                                .order_by(ShipmentLog.id))).scalars()
        return [(r.step, r.detail) for r in rows]


def calls(sim: ShiprocketSim | ShipleeSim, path: str) -> int:
    return sum(1 for _, p in sim.calls if p == path)


async def test_shiplee_books_end_to_end_and_zoho_shows_it(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    svc = make_svc("shiplee")
    so_id = confirmed_order(zoho_sim, terms="Cash on Delivery")
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiplee" and sh.awb and sh.sr_order_id and sh.courier_id
    [(shiplee_id, order)] = shiplee_sim.orders.items()
    assert order["status"] == "booked" and order["awb_number"] == sh.awb and str(shiplee_id) == sh.sr_order_id
    assert order["payment_type"] == "cod"
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    assert zoho_sim.custom_field(so_id, "cf_courier_partner") == sh.courier_name == order["carrier"]
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "AWB Assigned"
    # No pickup, label or manifest call at Shiplee: each step is recorded as skipped with its reason,
    # without a call; nothing reached Shiprocket.
    log = dict(await steps(svc, sh.id))
    assert "no pickup request API" in log["pickup_request_skipped"]
    assert "no label API" in log["label_skipped"]
    assert "manifests booked parcels itself" in log["manifest_skipped"]
    assert not any(path == "/api/manifest" for _, path in shiplee_sim.calls)
    assert sh.label_url is None and sh.manifest_url is None and sh.pickup_requested_at is None
    assert shiprocket_sim.calls == [] and await alerts(svc) == []


async def test_shiplee_manifest_pdf_is_read_once_shiplee_has_manifested(make_svc, shiplee_sim, zoho_sim):
    svc = make_svc("shiplee")
    client = svc.aggregator_for("shiplee")
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert shiplee_sim.manifests_served == 0  # the flow never asks for it
    shiplee_sim.advance(sh.awb, "manifested")
    manifest = await client.manifest([sh.sr_order_id])
    assert manifest.pdf.startswith(b"%PDF") and shiplee_sim.manifests_served == 1


async def test_duplicate_webhook_gives_one_shiplee_booking(make_svc, shiplee_sim, zoho_sim):
    svc = make_svc("shiplee")
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "manifested", times=4)
    assert len(shiplee_sim.orders) == 1 and calls(shiplee_sim, "/api/book_shipment") == 1
    assert [o["awb_number"] for o in shiplee_sim.orders.values()] == [sh.awb]


async def test_create_is_never_blind_a_lost_reply_is_found_not_repeated(make_svc, shiplee_sim, zoho_sim):
    svc = make_svc("shiplee", HTTP_MAX_RETRIES=0)
    # The create reaches Shiplee and makes the order, but the reply is lost (a 502 after the fact).
    shiplee_sim.faults.inject("/api/create_order", status=502, body="<html>Bad Gateway</html>", after=True)
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert len(shiplee_sim.orders) == 1 and sh.sr_order_id == str(next(iter(shiplee_sim.orders)))
    assert "reused existing Shiplee order" in dict(await steps(svc, sh.id))["order_created"]


async def test_unserviceable_on_shiprocket_is_booked_on_shiplee(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    svc = make_svc()
    shiprocket_sim.unserviceable_pincodes.add("744101")
    so_id = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiplee" and sh.awb == next(iter(shiplee_sim.orders.values()))["awb_number"]
    assert "Shiprocket: no courier serves" in (sh.courier_reason or "")
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    # The Shiprocket order created alongside the quote was cancelled: one live booking.
    assert all(o["status"].upper().startswith("CANCEL") for o in shiprocket_sim.orders.values())
    assert await alerts(svc) == []


async def test_no_aggregator_serves_gives_serviceability_failed(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    svc = make_svc()
    shiprocket_sim.unserviceable_pincodes.add("744101")
    shiplee_sim.unserviceable_pincodes.add("744101")
    so_id = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    sh = await ship(svc, zoho_sim, so_id, "serviceability_failed")
    await eventually(lambda: _zoho(zoho_sim, so_id, "Serviceability Failed"))
    [alert] = await alerts(svc, "serviceability_failed")
    assert "Shiprocket: no courier serves" in alert.message and "Shiplee: no courier serves" in alert.message
    assert shiplee_sim.orders == {} and sh.aggregator == "shiprocket"


async def _zoho(zoho_sim: ZohoSim, so_id: str, label: str) -> bool:
    return zoho_sim.custom_field(so_id, "cf_shipment_status") == label


async def test_awb_failure_tries_next_courier_then_other_aggregator(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    svc = make_svc()
    shiprocket_sim.fail_awb_assignments(10, mode="http_400")
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiplee" and sh.awb
    # Two Shiprocket couriers, AWB_MAX_ATTEMPTS each, then Shiplee.
    assert calls(shiprocket_sim, "/courier/assign/awb") == 4
    assert [h["aggregator"] for h in sh.booking_hops] == ["shiprocket", "shiprocket"]
    assert len({h["courier_id"] for h in sh.booking_hops}) == 2
    log = await steps(svc, sh.id)
    assert [s for s, _ in log].count("courier_hop") == 1
    [(_, hop)] = [(s, d) for s, d in log if s == "aggregator_hop"]
    [sr_order] = shiprocket_sim.orders.values()
    # The abandoned Shiprocket booking was cancelled before Shiplee booked: never two live bookings.
    assert f"Shiprocket order {sr_order['order_id']} cancelled" in hop
    assert sr_order["status"].upper().startswith("CANCEL")
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    assert zoho_sim.custom_field(so_id, "cf_shiprocket_order_id") == sh.sr_order_id
    assert await alerts(svc) == []


async def test_awb_failure_on_every_courier_of_both_aggregators_ends_in_awb_failed(make_svc, shiplee_sim,
                                                                                   shiprocket_sim, zoho_sim):
    # The last step of the chain: Shiprocket refuses every AWB (two couriers, AWB_MAX_ATTEMPTS each), the
    # order moves to Shiplee, whose courier API fails for both of its couriers too. Nowhere is left: AWB
    # Failed, one alert, every hop on record with its reason, and no booking left live anywhere.
    svc = make_svc(HTTP_MAX_RETRIES=0)
    shiprocket_sim.fail_awb_assignments(10, mode="http_400")
    shiplee_sim.courier_failures = 10  # book_shipment answers 500: "Courier API failed to generate AWB."
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "awb_failed")
    await eventually(lambda: _zoho(zoho_sim, so_id, "AWB Failed"))
    assert sh.awb is None and sh.aggregator == "shiplee"
    assert calls(shiprocket_sim, "/courier/assign/awb") == 4
    assert calls(shiplee_sim, "/api/book_shipment") == 4  # two Shiplee couriers, two attempts each
    # Given up before the last: two Shiprocket couriers and the first Shiplee one, each with its reason;
    # the last is the shipment's own courier, named in the awb_failed step.
    assert [h["aggregator"] for h in sh.booking_hops] == ["shiprocket", "shiprocket", "shiplee"]
    assert sh.courier_id not in {h["courier_id"] for h in sh.booking_hops}
    assert all("attempt(s) failed" in h["reason"] for h in sh.booking_hops)
    assert "failed to generate AWB" in sh.booking_hops[-1]["reason"]
    log = dict(await steps(svc, sh.id))
    assert "Shiprocket order" in log["aggregator_hop"] and "cancelled" in log["aggregator_hop"]
    assert "failed to generate AWB" in log["awb_failed"]
    # Never two live bookings: the abandoned Shiprocket order is cancelled, and no Shiplee order has an AWB.
    assert all(o["status"].upper().startswith("CANCEL") for o in shiprocket_sim.orders.values())
    assert not any(o.get("awb_number") for o in shiplee_sim.orders.values())
    [alert] = await alerts(svc, "awb_failed")
    assert "4 courier(s)" in alert.message and "Shiplee" in alert.message


async def test_abandoned_shiplee_booking_is_cancelled_when_shiplee_goes_down(make_svc, shiplee_sim, shiprocket_sim,
                                                                            zoho_sim):
    svc = make_svc("shiplee,shiprocket", AGGREGATOR_DOWN_AFTER_SECONDS=0, HTTP_MAX_RETRIES=0)
    shiplee_sim.courier_failures = 10  # book_shipment answers 500: the courier API is failing
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiprocket" and sh.awb
    [(sl_id, sl_order)] = shiplee_sim.orders.items()
    assert sl_order["status"] == "cancelled" and not sl_order.get("awb_number")
    assert [(h["aggregator"], h["courier_id"]) for h in sh.booking_hops][-1] == ("shiplee", "*")
    hop = dict(await steps(svc, sh.id))["aggregator_hop"]
    assert f"Shiplee order {sl_id} cancelled" in hop


async def test_aggregator_down_routes_new_orders_to_the_other(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    svc = make_svc(AGGREGATOR_DOWN_AFTER_SECONDS=0, HTTP_MAX_RETRIES=0)
    shiprocket_sim.faults.server_error("/courier/serviceability/", status=503, times=100)
    first = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, first, "manifested")
    assert sh.aggregator == "shiplee" and "Shiprocket is down" in (sh.courier_reason or "")
    quoted = calls(shiprocket_sim, "/courier/serviceability/")
    second = confirmed_order(zoho_sim)
    sh2 = await ship(svc, zoho_sim, second, "manifested")
    # Shiprocket is down (state in Redis, shared by every process): the next order does not even ask it.
    assert sh2.aggregator == "shiplee" and "Shiprocket skipped: down" in (sh2.courier_reason or "")
    assert calls(shiprocket_sim, "/courier/serviceability/") == quoted
    assert all(o["status"].upper().startswith("CANCEL") for o in shiprocket_sim.orders.values())
    assert len(shiplee_sim.orders) == 2


async def test_rule_naming_shiplee_books_there(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    svc = make_svc()
    svc.rules = parse_rules({"fallback": "recommended", "rules": [
        {"name": "COD on Shiplee", "payment": "COD", "aggregator": "shiplee", "prefer": ["Xpressbees"]}]})
    so_id = confirmed_order(zoho_sim, terms="COD")
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiplee" and sh.courier_id == "xpressbees_air"
    assert "rule 'COD on Shiplee' prefers Xpressbees on shiplee" in (sh.courier_reason or "")
    # Shiprocket was quoted too (the rule compares), and its order created alongside was cancelled.
    assert all(o["status"].upper().startswith("CANCEL") for o in shiprocket_sim.orders.values())


async def test_cross_aggregator_cheapest(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    svc = make_svc()
    svc.rules = parse_rules({"fallback": "cheapest", "across_aggregators": True})
    shiplee_sim.ratecards[1].freight_per_slab = Decimal(5)  # Xpressbees Air on Shiplee undercuts everyone
    shiplee_sim.ratecards[1].cod_charge = Decimal(0)
    shiplee_sim.ratecards[1].cod_percent = Decimal(0)
    so_id = confirmed_order(zoho_sim, terms="Prepaid")
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiplee" and sh.courier_id == "xpressbees_air"
    assert "cheapest is Xpressbees Air" in (sh.courier_reason or "") and "via shiplee" in (sh.courier_reason or "")
    # And the other way round: Shiplee dear, Shiprocket's cheapest wins.
    shiplee_sim.ratecards[1].freight_per_slab = Decimal(9999)
    shiplee_sim.ratecards[0].freight_per_slab = Decimal(9999)
    other = confirmed_order(zoho_sim, terms="Prepaid")
    sh2 = await ship(svc, zoho_sim, other, "manifested")
    assert sh2.aggregator == "shiprocket" and "via shiprocket" in (sh2.courier_reason or "")


async def test_agreement_gate_during_booking_parks_the_order_without_a_retry_loop(make_svc, shiplee_sim, zoho_sim):
    svc = make_svc("shiplee")
    shiplee_sim.publish_agreement()
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "stalled")
    [gate] = await alerts(svc, "shiplee_agreement_required")
    assert "accept" in gate.message
    [parked] = await alerts(svc, "fulfilment_parked")
    assert "Retry" in parked.message and "waiting for the seller" in (sh.last_error or "").lower()
    refused = len(shiplee_sim.calls)
    async with running_worker(svc, cron=True):
        import asyncio

        await asyncio.sleep(2.5)  # the sweeper runs every second: a parked order is not re-driven
    assert len(shiplee_sim.calls) == refused and shiplee_sim.orders == {}
    # The seller accepts the terms; Retry resumes it and it books.
    shiplee_sim.agreement_accepted = True
    from app.ops.actions import retry_order

    assert (await retry_order(svc, so_id)).outcome == "done"
    async with running_worker(svc):
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert sh.awb and sh.aggregator == "shiplee"


async def test_agreement_gate_with_shiprocket_configured_books_on_shiprocket(make_svc, shiplee_sim, shiprocket_sim,
                                                                             zoho_sim):
    svc = make_svc("shiplee,shiprocket")
    shiplee_sim.publish_agreement()
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiprocket" and "Shiplee is waiting for the seller" in (sh.courier_reason or "")
    assert len(await alerts(svc, "shiplee_agreement_required")) == 1


async def test_an_aggregator_is_down_only_after_failing_for_the_configured_time(make_svc):
    import time

    from app.fulfilment import routing

    svc = make_svc(AGGREGATOR_DOWN_AFTER_SECONDS=300)
    await routing.record_failure(svc, "shiprocket")
    assert await routing.down_for(svc, "shiprocket") is None  # one failure is not an outage
    redis = await svc.queue.pool()
    await redis.set("shipbridge:aggregator-failing-since:shiprocket", repr(time.time() - 400))
    await routing.record_failure(svc, "shiprocket")
    assert (await routing.down_for(svc, "shiprocket") or 0) >= 400
    assert "shiprocket" in (await routing.health_now(svc)).down
    # Quiet past the re-check window: the next order may try it again.
    await redis.set("shipbridge:aggregator-last-failure:shiprocket", repr(time.time() - routing.RECHECK_SECONDS - 1))
    assert await routing.down_for(svc, "shiprocket") is None
    await routing.record_success(svc, "shiprocket")
    assert await redis.get("shipbridge:aggregator-failing-since:shiprocket") is None


async def test_shiplee_assign_awb_is_idempotent_and_dispatch_steps_say_why_they_are_skipped(make_svc, shiplee_sim):
    from app.integrations.aggregator import StepNotOffered
    from tests.integrations.test_shiplee_client import ship_order

    client = make_svc("shiplee").aggregator_for("shiplee")
    created = await client.create_order(ship_order("SO-9"), "SO-9")
    first = await client.assign_awb(created.shipment_id, "delhivery_2kg_surface")
    again = await client.assign_awb(created.shipment_id, "delhivery_2kg_surface")  # a lost reply, repeated
    assert first.awb == again.awb and first.courier_name == "Delhivery 2kg Surface"
    assert len(shiplee_sim.orders) == 1 and shiplee_sim.orders[int(created.order_id)]["status"] == "booked"
    with pytest.raises(StepNotOffered, match="no pickup request API"):
        await client.request_pickup(created.shipment_id)
    with pytest.raises(StepNotOffered, match="no label API"):
        await client.generate_label(created.shipment_id)
    with pytest.raises(StepNotOffered, match="manifests booked parcels itself"):
        await client.generate_manifest(created.shipment_id, created.order_id)


async def test_a_refused_cancel_of_the_abandoned_booking_stops_the_hop(make_svc, shiplee_sim, shiprocket_sim,
                                                                      zoho_sim):
    """Booking on Shiplee while the Shiprocket order may still be live would be two bookings: no hop."""
    svc = make_svc()
    shiprocket_sim.fail_awb_assignments(10, mode="http_400")
    refusal = {"message": "Order cannot be cancelled in its current state.", "status_code": 400}
    shiprocket_sim.faults.inject("/orders/cancel", status=400, times=10, body=refusal)
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "awb_failed")
    assert sh.aggregator == "shiprocket" and shiplee_sim.orders == {}
    refused = dict(await steps(svc, sh.id))["hop_refused"]
    assert "refused to cancel order" in refused and "cannot be cancelled" in refused
    [alert] = await alerts(svc, "awb_failed")
    assert "Shiprocket's panel" in alert.message


async def test_a_shiplee_booking_is_cancelled_on_shiplee(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    from app.fulfilment.cancel import cancel_shipment

    svc = make_svc()
    shiprocket_sim.unserviceable_pincodes.add("744101")
    so_id = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiplee"
    sr_cancels = sum(1 for _, p in shiprocket_sim.calls if p == "/orders/cancel")
    assert await cancel_shipment(svc, so_id, reason="customer cancelled") == "cancelled"
    # The booked parcel is cancelled where it was booked (cancel_shipments, refunded), not on Shiprocket.
    assert shiplee_sim.orders[int(sh.sr_order_id)]["status"] == "cancelled"
    assert calls(shiplee_sim, "/api/cancel_shipments") == 1
    assert sum(1 for _, p in shiprocket_sim.calls if p == "/orders/cancel") == sr_cancels
    await eventually(lambda: _zoho(zoho_sim, so_id, "Cancelled"))


async def test_refused_shiplee_credentials_alert_and_the_order_books_on_shiprocket(make_svc, shiplee_sim,
                                                                                   shiprocket_sim, zoho_sim):
    from pydantic import SecretStr

    svc = make_svc("shiplee,shiprocket", SHIPLEE_PASSWORD=SecretStr("not-the-password"))
    so_id = confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, so_id, "manifested")
    assert sh.aggregator == "shiprocket" and "Shiplee refused our credentials" in (sh.courier_reason or "")
    [alert] = await alerts(svc, "credentials_refused")
    assert "shiplee" in alert.message and "not-the-password" not in alert.message
