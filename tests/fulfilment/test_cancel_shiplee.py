"""Cancelling a Shiplee-booked shipment goes to Shiplee (the shipment's own aggregator), never to
Shiprocket; a parcel Shiplee will no longer cancel is refused with Shiplee's reason and ops alerted."""

from __future__ import annotations

from app.fulfilment.cancel import cancel_shipment
from sandbox.shiplee import ShipleeSim
from tests.shiplee_helpers import shiplee_shipped, svc  # noqa: F401 - svc: both aggregators configured
from tests.spine_helpers import alerts, shipment
from tests.tracking.helpers import stack


async def test_a_shiplee_booking_is_cancelled_on_shiplee(svc, shiplee_sim: ShipleeSim, shiprocket_sim,  # noqa: F811
                                                         zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shiplee_shipped(svc, client, zoho_sim, terms="Prepaid")
        shiprocket_calls = len(shiprocket_sim.calls)
        outcome = await cancel_shipment(svc, so_id, reason="voided", actor="ops:asha")

    assert outcome == "cancelled"
    assert ("POST", "/api/cancel_shipments") in shiplee_sim.calls
    assert shiplee_sim.orders[int(sh.sr_order_id or 0)]["status"] == "cancelled"
    assert len(shiprocket_sim.calls) == shiprocket_calls  # Shiprocket never asked
    done = await shipment(svc, so_id)
    assert done is not None and done.state == "cancelled"


async def test_a_shiplee_parcel_past_cancelling_is_refused_with_shiplees_reason(
        svc, shiplee_sim: ShipleeSim, zoho_sim):  # noqa: F811
    async with stack(svc) as client:
        so_id, sh = await shiplee_shipped(svc, client, zoho_sim, terms="Prepaid")
        shiplee_sim.advance(sh.awb, "in_transit")  # Shiplee moved on; our record has not heard yet
        outcome = await cancel_shipment(svc, so_id, reason="voided", actor="ops:asha")

    assert outcome == "refused_alerted"
    [alert] = await alerts(svc, "cancel_refused")
    assert "Shiplee refused to cancel order" in alert.message and "in_transit" in alert.message
