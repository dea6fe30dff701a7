"""Zoho refusing a tracking write for good: recorded, one alert for a person, never retried blindly."""

from __future__ import annotations

from tests.spine_helpers import alerts, shipment
from tests.tracking.helpers import drive, effects, settled, shipped, stack

SHIPMENT_REFUSED = {"code": 36014, "message": "Shipment cannot be created for a package that is not packed."}
FIELD_REFUSED = {"code": 1001, "message": "Invalid value passed for cf_shipment_status."}


def count(zoho_sim, method: str, path: str, since: int = 0) -> int:
    return sum(1 for call in zoho_sim.calls[since:] if call == (method, path))


async def test_refused_shipment_order_marks_the_effect_failed_and_alerts_once(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim)
        zoho_sim.faults.inject("/inventory/v1/shipmentorders", method="POST", status=400, body=SHIPMENT_REFUSED,
                               times=10)
        await drive(client, shiprocket_sim, sh.awb, [42], svc)  # picked up: record the shipment in Zoho
        tried = count(zoho_sim, "POST", "/inventory/v1/shipmentorders")
        await drive(client, shiprocket_sim, sh.awb, [18, 17, 7], svc)  # each would record it again, if asked
        await settled(svc, so_id, "delivered")

    fx = (await effects(svc, so_id))["shipment:zoho_shipment"]
    assert fx.state == "failed" and "not packed" in fx.result["error"]
    # the create, then the reconcile's one attempt on the package it found; nothing after that
    assert tried == 2 and count(zoho_sim, "POST", "/inventory/v1/shipmentorders") == tried
    assert zoho_sim.shipments == {}
    [alert] = await alerts(svc, "tracking_effect_failed")
    assert sh.awb in alert.message and "zoho_shipment" in alert.message and "by hand" in alert.message
    assert "shipment:zoho_delivered" not in await effects(svc, so_id)  # nothing to mark delivered
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Delivered"  # the labels still went out


async def test_refused_label_alerts_once_and_keeps_the_last_synced_label(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim)
        path = f"/inventory/v1/salesorders/{so_id}"
        mark, before = len(zoho_sim.calls), sh.zoho_synced_label
        zoho_sim.faults.inject(path, method="PUT", status=400, body=FIELD_REFUSED, times=10)
        await drive(client, shiprocket_sim, sh.awb, [18], svc)  # in transit: a label change
        await drive(client, shiprocket_sim, sh.awb, [22], svc)  # delayed: same status, same label
        await settled(svc, so_id, "in_transit")

    assert count(zoho_sim, "PUT", path, mark) == 1  # tried once, not again for the same label
    done = await shipment(svc, so_id)
    assert before == "Pickup Scheduled" and done.status_label == "In Transit" and done.tracking_settled
    assert done.zoho_synced_label == before == zoho_sim.custom_field(so_id, "cf_shipment_status")
    [alert] = await alerts(svc, "tracking_writeback_failed")
    assert "In Transit" in alert.message and "Invalid value" in alert.message
