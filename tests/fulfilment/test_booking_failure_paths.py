"""Booking's rarer failure paths, end to end (signed Zoho webhook, the real worker, Postgres, Redis, the
simulators): two sales orders handed one aggregator order, the early Shiprocket order that cannot be
cancelled once routing books elsewhere, and Shiplee's account re-check itself failing."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import text

from app.fulfilment import routing
from app.fulfilment.service import FULFIL_JOB
from app.main import create_app
from app.models import Shipment
from app.services import Services
from sandbox.faults import Fault
from sandbox.zoho import ZohoSim
from tests.fulfilment.test_routing import calls, ship, steps
from tests.harness import api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, deliver, in_state, shipment

CREATE = "/orders/create/adhoc"
BLOCKED_KEY = "shipbridge:aggregator-blocked:shiplee"


# --- 1. one Shiprocket order handed to two sales orders ---------------------------------------------

def _deleted_in_zoho(zoho: ZohoSim, number: str, pincode: str) -> tuple[str, bytes]:
    """A confirmed order whose webhook went out, then deleted in Zoho, freeing its number for the next."""
    so_id = confirmed_order(zoho, number=number, pincode=pincode)
    body = zoho.webhook_body(so_id)
    with zoho._lock:
        del zoho.salesorders[so_id]
    return so_id, body


async def _tripped(fault: Fault) -> bool:
    return fault.tripped


async def _set_next_shipment_id(svc: Services, value: int) -> None:
    async with svc.engine.begin() as conn:
        await conn.execute(text("SELECT setval('shipments_id_seq', :v, false)"), {"v": value})


def _sr_order(shiprocket_sim: Any, order_id: str | None) -> dict[str, Any]:
    """The simulator's order, with the pincode it was created for (whose parcel it is)."""
    order = next(o for o in shiprocket_sim.orders.values() if str(o["order_id"]) == str(order_id))
    return {**order, "delivery_pincode": order["payload"]["billing_pincode"]}


async def test_one_order_handed_to_two_sales_orders_books_the_second_to_record_under_r1(
        make_svc, shiprocket_sim, zoho_sim):
    """Two accepts of one number in flight at once: the later-committed row drew the earlier id, so both
    jobs find the id free and both create it; Shiprocket answers the second create with the first's order
    (a NEW order looks freshly made). The unique (aggregator, sr_order_id) refuses the second record."""
    svc = make_svc("shiprocket")
    first_id, first_body = _deleted_in_zoho(zoho_sim, "SO-90", pincode="560001")
    second_id = confirmed_order(zoho_sim, number="SO-90", pincode="110001")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await _set_next_shipment_id(svc, 100)
        first_create = shiprocket_sim.faults.trap(CREATE)  # served: the order exists, its reply is held
        await deliver(client, zoho_sim, first_id, body=first_body)
        await eventually(lambda: _tripped(first_create))
        # The second row drew its id before the first's accept committed (reproduced by rewinding the
        # sequence: the interleaving inside two transactions cannot be held from outside), so the first
        # job's check saw no earlier holder, and the second's sees a later one with nothing booked yet.
        await _set_next_shipment_id(svc, 10)
        second_create = shiprocket_sim.faults.trap(CREATE)
        await deliver(client, zoho_sim, second_id)
        await eventually(lambda: _tripped(second_create))
        # The first's AWB call is held (not served) once it has recorded the order, so the order is
        # still NEW (and looks freshly made) when the second is handed it.
        first_awb = shiprocket_sim.faults.trap("/courier/assign/awb", served=False)
        first_create.release()  # a lost reply: the client retries and is handed the same order
        await eventually(_booked(svc, first_id))
        await eventually(lambda: _tripped(first_awb))
        second_create.release()  # handed the first's order too; recording it meets the constraint
        await eventually(_booked(svc, second_id))
        first_awb.release()
        second = await eventually(in_state(svc, second_id, "manifested"), timeout=30)
        first = await eventually(in_state(svc, first_id, "writeback_failed"), timeout=30)  # deleted in Zoho
    assert second.id < first.id
    assert first.channel_order_id == "SO-90" and second.channel_order_id == "SO-90-R1"
    assert first.sr_order_id != second.sr_order_id and first.awb and second.awb and first.awb != second.awb
    # Each Shiprocket order is the one made with that sales order's own address, and both are live.
    mine, theirs = _sr_order(shiprocket_sim, first.sr_order_id), _sr_order(shiprocket_sim, second.sr_order_id)
    assert (mine["channel_order_id"], mine["delivery_pincode"]) == ("SO-90", "560001")
    assert (theirs["channel_order_id"], theirs["delivery_pincode"]) == ("SO-90-R1", "110001")
    assert not any(o["status"].upper().startswith("CANCEL") for o in (mine, theirs))
    assert len(shiprocket_sim.orders) == 2
    suffixed = [d for s, d in await steps(svc, second.id) if s == "order_id_suffixed"]
    assert suffixed == [f"Shiprocket handed back order {first.sr_order_id} under SO-90, just recorded for "
                        "another sales order; booking as SO-90-R1"]
    assert zoho_sim.custom_field(second_id, "cf_shiprocket_order_id") == second.sr_order_id
    assert zoho_sim.custom_field(second_id, "cf_awb_number") == second.awb


def _booked(svc: Services, so_id: str):  # noqa: ANN202 - an awaitable factory for eventually()
    async def check() -> Shipment | None:
        sh = await shipment(svc, so_id)
        return sh if sh is not None and sh.sr_order_id else None

    return check


async def test_a_number_held_by_an_earlier_order_is_never_created_alongside_the_quote(make_svc, shiprocket_sim,
                                                                                     zoho_sim):
    """The earlier sales order's Shiprocket order is NEW (its reply still on the way) when the later one is
    quoted: the later one must not create (and be handed) that order alongside its quote, then keep it
    under its suffixed id: it would ship the earlier customer's parcel."""
    svc = make_svc("shiprocket")
    first_id, first_body = _deleted_in_zoho(zoho_sim, "SO-91", pincode="560001")
    second_id = confirmed_order(zoho_sim, number="SO-91", pincode="110001")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        first_create = shiprocket_sim.faults.trap(CREATE)
        await deliver(client, zoho_sim, first_id, body=first_body)
        await eventually(lambda: _tripped(first_create))
        await deliver(client, zoho_sim, second_id)
        await eventually(_booked(svc, second_id))
        first_create.release()
        second = await eventually(in_state(svc, second_id, "manifested"), timeout=30)
        first = await eventually(in_state(svc, first_id, "writeback_failed"), timeout=30)
    assert first.channel_order_id == "SO-91" and second.channel_order_id == "SO-91-R1"
    assert _sr_order(shiprocket_sim, first.sr_order_id)["delivery_pincode"] == "560001"
    assert _sr_order(shiprocket_sim, second.sr_order_id)["delivery_pincode"] == "110001"
    assert first.awb != second.awb and len(shiprocket_sim.orders) == 2
    log = await steps(svc, second.id)
    assert [s for s, _ in log].count("order_id_suffixed") == 1
    assert f"belongs to sales order {first_id}" in dict(log)["order_id_suffixed"]


# --- 2. the early Shiprocket order that cannot be cancelled -----------------------------------------

async def test_early_order_that_cannot_be_cancelled_is_alerted_once(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    svc = make_svc("shiprocket,shiplee", HTTP_MAX_RETRIES=0)
    shiprocket_sim.unserviceable_pincodes.add("744101")
    shiprocket_sim.faults.server_error("/orders/cancel", status=503, times=100)
    so_id = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    sh = await ship(svc, zoho_sim, so_id, "manifested", times=3)  # the webhook redelivered, too
    assert sh.aggregator == "shiplee" and sh.awb
    [(_, shiplee_order)] = shiplee_sim.orders.items()
    assert shiplee_order["awb_number"] == sh.awb and zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    # The Shiprocket order created alongside the quote is still live: a person must cancel it.
    [early] = shiprocket_sim.orders.values()
    assert early["channel_order_id"] == sh.channel_order_id and early["status"] == "NEW"
    assert f"Shiprocket order {early['order_id']}, created alongside the check, could not be cancelled" in (
        sh.courier_reason or "")
    # The job run again changes nothing either.
    async with running_worker(svc):
        await svc.queue.enqueue(FULFIL_JOB, so_id)
        await eventually(in_state(svc, so_id, "manifested"))
    [alert] = await alerts(svc, "orphan_order")
    assert alert.salesorder_id == so_id and str(early["order_id"]) in alert.message
    assert sh.salesorder_number in alert.message and "cancel it in Shiprocket" in alert.message
    assert [a.kind for a in await alerts(svc)] == ["orphan_order"]


async def test_early_order_cancelled_when_a_rule_books_shiplee(make_svc, shiplee_sim, shiprocket_sim, zoho_sim):
    """The success path beside the alert: cancelled in the simulator, no alert."""
    from app.rules import parse_rules

    svc = make_svc("shiprocket,shiplee")
    svc.rules = parse_rules({"fallback": "recommended", "rules": [
        {"name": "COD on Shiplee", "payment": "COD", "aggregator": "shiplee"}]})
    sh = await ship(svc, zoho_sim, confirmed_order(zoho_sim, terms="COD"), "manifested")
    assert sh.aggregator == "shiplee"
    [early] = shiprocket_sim.orders.values()
    assert early["status"].upper().startswith("CANCEL")
    assert f"Shiprocket order {early['order_id']}, created alongside the check, cancelled" in (sh.courier_reason or "")
    assert await alerts(svc, "orphan_order") == []


# --- 3. Shiplee's account re-check failing ----------------------------------------------------------

async def _recheck_due(svc: Services) -> None:
    """The re-check period has passed: rewrite when the block was last checked."""
    redis = await svc.queue.pool()
    entry = json.loads(await redis.get(BLOCKED_KEY))
    entry["checked"] = time.time() - svc.settings.AGGREGATOR_BLOCKED_RECHECK_SECONDS - 1
    await redis.set(BLOCKED_KEY, json.dumps(entry))


async def test_failed_account_check_routes_around_shiplee_and_restarts_the_clock(make_svc, shiplee_sim,
                                                                                 shiprocket_sim, zoho_sim):
    svc = make_svc("shiplee,shiprocket", AGGREGATOR_BLOCKED_RECHECK_SECONDS=600, HTTP_MAX_RETRIES=0)
    shiplee_sim.publish_agreement()
    first = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "manifested")
    assert first.aggregator == "shiprocket"
    gate = (await routing.health_now(svc)).blocked["shiplee"].message

    await _recheck_due(svc)
    shiplee_sim.faults.server_error("/api/agreement", status=503, times=100)
    asked = len(shiplee_sim.calls)
    second = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "manifested")
    assert second.aggregator == "shiprocket" and not second.booking_hops
    assert [p for _, p in shiplee_sim.calls[asked:] if p != "/api/login"] == ["/api/agreement"]
    assert calls(shiplee_sim, "/api/create_order") == 0
    # The reason says the check failed, and still why Shiplee was blocked in the first place.
    assert "account check failed" in (second.courier_reason or "") and gate in (second.courier_reason or "")
    assert "account check failed" in dict(await steps(svc, second.id))["courier_chosen"]
    # The clock restarted: the next order right after makes no call to Shiplee, and keeps the reason.
    asked = len(shiplee_sim.calls)
    third = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "manifested")
    assert third.aggregator == "shiprocket" and shiplee_sim.calls[asked:] == []
    assert gate in (third.courier_reason or "")

    # Shiplee answers again and the seller has accepted the terms: the next check passes, Shiplee books.
    shiplee_sim.faults.reset()
    shiplee_sim.agreement_accepted = True
    await _recheck_due(svc)
    fourth = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "manifested")
    assert fourth.aggregator == "shiplee" and fourth.awb and not fourth.booking_hops
    assert (await routing.health_now(svc)).blocked == {} and shiplee_sim.orders
    assert len(await alerts(svc, "shiplee_agreement_required")) == 1


async def test_failed_account_check_parks_when_shiplee_is_the_only_aggregator(make_svc, shiplee_sim, zoho_sim):
    svc = make_svc("shiplee", AGGREGATOR_BLOCKED_RECHECK_SECONDS=600, HTTP_MAX_RETRIES=0)
    shiplee_sim.publish_agreement()
    await ship(svc, zoho_sim, confirmed_order(zoho_sim), "stalled")
    await _recheck_due(svc)
    shiplee_sim.faults.server_error("/api/home", status=502, times=100)
    shiplee_sim.agreement_accepted = True  # the terms are fine now; the wallet read fails
    parked = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "stalled")
    assert "account check failed" in (parked.last_error or "")
    assert calls(shiplee_sim, "/api/home") == 1 and calls(shiplee_sim, "/api/create_order") == 0
    assert shiplee_sim.orders == {} and len(await alerts(svc, "fulfilment_parked")) == 2
