"""Shiplee's own side of routing: quotes priced from its warehouse (not Shiprocket's pickup), and an
account that refuses bookings until the seller acts remembered across orders, so new orders go straight
to the next aggregator until a re-check finds the account ready again."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from app.fulfilment import routing
from app.integrations.http import PermanentUpstreamError
from tests.fulfilment.test_routing import calls, ship
from tests.shiplee_helpers import shiplee_of
from tests.spine_helpers import alerts, confirmed_order

SHIPROCKET_PICKUP = "400001"  # tests/conftest.py's SHIPROCKET_PICKUP_PINCODE


async def test_shiplee_quotes_from_its_warehouse_read_once(make_svc, shiplee_sim, zoho_sim):
    svc = make_svc("shiplee")
    assert svc.settings.SHIPROCKET_PICKUP_PINCODE == SHIPROCKET_PICKUP
    shiplee_sim.warehouses[0]["pincode"] = "560001"  # SHIPLEE_WAREHOUSE_ID=1, far from Shiprocket's pickup
    first, second = confirmed_order(zoho_sim), confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, first, "manifested")
    sh2 = await ship(svc, zoho_sim, second, "manifested")
    assert sh.aggregator == sh2.aggregator == "shiplee"
    assert shiplee_sim.rate_origins == ["560001", "560001"]
    assert calls(shiplee_sim, "/api/warehouse") == 1  # cached for the process


async def test_unreadable_warehouse_falls_back_to_shiprocket_pickup_with_a_warning(make_svc, shiplee_sim, zoho_sim,
                                                                                   caplog):
    svc = make_svc("shiplee", HTTP_MAX_RETRIES=0)
    client = shiplee_of(svc)
    shiplee_sim.faults.server_error("/api/warehouse", status=503, times=1)
    caplog.set_level(logging.WARNING, logger="shipbridge.shiplee")
    assert await client.origin_pincode(SHIPROCKET_PICKUP) == SHIPROCKET_PICKUP
    assert "Shiplee warehouses unreadable" in caplog.text and SHIPROCKET_PICKUP in caplog.text
    # Not cached: the next quote reads the warehouse again, and keeps what it finds.
    assert await client.origin_pincode(SHIPROCKET_PICKUP) == "110001"
    shiplee_sim.warehouses[0]["pincode"] = "560001"
    assert await client.origin_pincode(SHIPROCKET_PICKUP) == "110001"
    assert calls(shiplee_sim, "/api/warehouse") == 2


async def test_warehouse_id_not_listed_refuses_the_quote_and_routes_on(make_svc, shiplee_sim, shiprocket_sim,
                                                                         zoho_sim):
    """A wrong SHIPLEE_WAREHOUSE_ID: book_shipment would refuse the warehouse after the order was made, so
    the quote is refused up front, no Shiplee order is created, and Shiprocket books the order."""
    svc = make_svc("shiplee", SHIPLEE_WAREHOUSE_ID="7")
    with pytest.raises(PermanentUpstreamError, match="SHIPLEE_WAREHOUSE_ID '7' is not one of"):
        await shiplee_of(svc).origin_pincode(SHIPROCKET_PICKUP)
    svc = make_svc("shiplee,shiprocket", SHIPLEE_WAREHOUSE_ID="7")
    sh = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "manifested")
    assert sh.aggregator == "shiprocket" and "Shiplee refused the quote" in (sh.courier_reason or "")
    assert calls(shiplee_sim, "/api/create_order") == 0


async def test_low_wallet_is_asked_once_then_rechecked_without_an_order(make_svc, shiplee_sim, shiprocket_sim,
                                                                        zoho_sim):
    svc = make_svc("shiplee,shiprocket", AGGREGATOR_BLOCKED_RECHECK_SECONDS=600)
    shiplee_sim.wallet = Decimal(120)  # below Shiplee's ₹500 booking minimum: 402 INSUFFICIENT_BALANCE
    first, second = confirmed_order(zoho_sim), confirmed_order(zoho_sim)
    sh = await ship(svc, zoho_sim, first, "manifested")
    sh2 = await ship(svc, zoho_sim, second, "manifested")
    assert sh.aggregator == sh2.aggregator == "shiprocket"
    assert [h["courier_id"] for h in sh.booking_hops] == [sh.booking_hops[0]["courier_id"], "*"]
    # Shiplee was asked once: one create, one refused booking, that order cancelled; the second order
    # went straight to Shiprocket without a call to Shiplee.
    assert calls(shiplee_sim, "/api/create_order") == calls(shiplee_sim, "/api/book_shipment") == 1
    [abandoned] = shiplee_sim.orders.values()
    assert abandoned["status"] == "cancelled"
    assert sh2.booking_hops in (None, []) and "Shiplee skipped: waiting for the seller" in (sh2.courier_reason or "")
    [alert] = await alerts(svc, "aggregator_blocked")  # once, not once per order
    assert "Shiplee refuses bookings" in alert.message and "500" in alert.message
    asked = len(shiplee_sim.calls)

    # The re-check time passes with the wallet still low: the account is asked, no order is made.
    svc.settings.AGGREGATOR_BLOCKED_RECHECK_SECONDS = 0
    third = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "manifested")
    assert third.aggregator == "shiprocket" and "below the ₹500 booking minimum" in (third.courier_reason or "")
    assert {p for _, p in shiplee_sim.calls[asked:]} <= {"/api/agreement", "/api/home", "/api/login"}
    assert len(shiplee_sim.orders) == 1

    # The seller recharges: after the re-check, Shiplee books again and the block is forgotten.
    shiplee_sim.wallet = Decimal(5000)
    fourth = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "manifested")
    assert fourth.aggregator == "shiplee" and fourth.awb and not fourth.booking_hops
    assert (await routing.health_now(svc)).blocked == {}
    assert len(await alerts(svc, "aggregator_blocked")) == 1


async def test_a_blocked_only_aggregator_parks_new_orders_without_calling_it(make_svc, shiplee_sim, zoho_sim):
    svc = make_svc("shiplee")
    shiplee_sim.wallet = Decimal(120)
    first = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "stalled")
    assert "waits for the seller" in (first.last_error or "")
    made = calls(shiplee_sim, "/api/create_order")
    second = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "stalled")
    assert "Shiplee skipped: waiting for the seller" in (second.last_error or "")
    assert calls(shiplee_sim, "/api/create_order") == made and calls(shiplee_sim, "/api/book_shipment") == 1


@pytest.mark.parametrize("entry", [b"not json", b"[1, 2]", b'{"checked": "soon"}'])
async def test_an_unreadable_blocked_entry_blocks_nothing(make_svc, entry):
    svc = make_svc("shiplee")
    redis = await svc.queue.pool()
    await redis.set("shipbridge:aggregator-blocked:shiplee", entry)
    assert (await routing.health_now(svc)).blocked == {}


async def test_down_is_still_tried_when_the_other_aggregator_waits_for_the_seller(make_svc, shiplee_sim,
                                                                                   shiprocket_sim, zoho_sim):
    from app.integrations.shipping import AccountActionRequired

    svc = make_svc("shiprocket,shiplee", AGGREGATOR_DOWN_AFTER_SECONDS=0)
    await routing.record_failure(svc, "shiprocket")  # down (at the first failure with this setting)
    await routing.alert_blocked(svc, "shiplee", AccountActionRequired("shiplee", "recharge", code="X"))
    assert "shiprocket" in (await routing.health_now(svc)).down
    sh = await ship(svc, zoho_sim, confirmed_order(zoho_sim), "manifested")
    # Every aggregator that could book is down: it is tried anyway; the blocked one never is.
    assert sh.aggregator == "shiprocket" and "Shiplee skipped: waiting for the seller (recharge)" in sh.courier_reason
    assert shiplee_sim.calls == []
