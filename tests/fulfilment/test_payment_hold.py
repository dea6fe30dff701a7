"""An order that says neither COD nor prepaid is never shipped as prepaid by default: Shipbridge reads the
order, then holds it with an alert (and the label on the order) until the seller says; or ships it the way
DEFAULT_PAYMENT_METHOD says."""

from __future__ import annotations

import json

from app.main import create_app
from tests.harness import api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, deliver, in_state, shipment


async def test_unknown_payment_method_holds_the_order_and_alerts(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim, terms="")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        assert (await deliver(client, zoho_sim, so_id)).status_code == 200
        sh = await eventually(in_state(svc, so_id, "on_hold"))
        await eventually(lambda: _label_is(zoho_sim, so_id, "On Hold (payment method unknown)"))
    assert "payment method unknown" in (sh.hold_reason or "") and "read from Zoho" in sh.hold_reason
    assert ("GET", f"/inventory/v1/salesorders/{so_id}") in zoho_sim.calls  # read before deciding
    assert shiprocket_sim.orders == {}
    [alert] = await alerts(svc, "payment_method_unknown")
    assert zoho_sim.salesorder(so_id)["salesorder_number"] in alert.message

    # The seller fills in the field and saves the order: the next webhook ships it as COD.
    with zoho_sim._lock:
        so = zoho_sim._so(so_id)
        zoho_sim._apply_custom_fields(so, [{"api_name": "cf_payment_method", "value": "COD"}])
        zoho_sim._touch(so)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert sh.payment_method == "COD" and sh.hold_reason is None
    [order] = shiprocket_sim.orders.values()
    assert order["payment_method"] == "COD"


async def test_default_payment_method_ships_instead_of_holding(svc, shiprocket_sim, zoho_sim):
    svc.settings.DEFAULT_PAYMENT_METHOD = "COD"
    so_id = confirmed_order(zoho_sim, terms="")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert sh.payment_method == "COD" and await alerts(svc, "payment_method_unknown") == []


async def test_terms_missing_from_the_webhook_are_read_from_zoho(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim, terms="Cash on Delivery")
    payload = json.loads(zoho_sim.webhook_body(so_id))
    del payload["salesorder"]["payment_terms_label"]
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id, body=json.dumps(payload).encode())
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert sh.payment_method == "COD" and (await shipment(svc, so_id)).hold_reason is None


async def _label_is(zoho_sim, so_id: str, label: str) -> bool:
    return zoho_sim.custom_field(so_id, "cf_shipment_status") == label
