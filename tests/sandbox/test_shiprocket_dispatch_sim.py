# ruff: noqa: F811  (the fixtures are imported from the main simulator test module and used as parameters)
"""The simulator's pickup, label, manifest, cancel and wrapper against shiprocket-after-awb-facts.md: it must
refuse what the real API refuses, or every fulfilment test is green while real parcels sit unshipped."""

from __future__ import annotations

import pytest

from sandbox.shiprocket import ShiprocketSim
from sandbox.shiprocket_awb import request_pickup_in_panel
from tests.sandbox.test_shiprocket_sim import Api, adhoc, api, client, sim  # noqa: F401 - fixtures


async def test_no_courier_scan_without_a_pickup_request(sim: ShiprocketSim, api: Api) -> None:
    _, awb = await api.shipped("ZD-1", pickup=False)
    for status in (19, 42, 6, 7):  # out for pickup, picked up, shipped, delivered
        with pytest.raises(ValueError, match="no pickup was requested"):
            sim.advance(awb, status)
    sim.advance(awb, 3)  # pre-pickup statuses are fine
    request_pickup_in_panel(sim, awb)
    assert sim.advance(awb, 42)["current_status"] == "PICKED UP"


async def test_label_needs_an_array_and_an_awb_and_repeats_the_same_url(sim: ShiprocketSim, api: Api) -> None:
    bare = await api.create("ZD-2")
    created, awb = await api.shipped("ZD-3", pickup=False)
    not_array = await api.post("/courier/generate/label", {"shipment_id": created["shipment_id"]})
    assert not_array.status_code == 422
    assert not_array.json()["errors"] == {"shipment_id": ["The shipment id must be an array."]}
    no_awb = await api.post("/courier/generate/label", {"shipment_id": [bare["shipment_id"]]})
    assert (no_awb.status_code, no_awb.json()) == (200, {"label_created": 0, "not_created": [],
                                                         "response": "No valid shipment ids to print label"})
    first = (await api.post("/courier/generate/label", {"shipment_id": [created["shipment_id"]]})).json()
    again = (await api.post("/courier/generate/label", {"shipment_id": [created["shipment_id"]]})).json()
    assert first["label_created"] == 1 and first["label_url"].endswith(f"-{created['shipment_id']}-{awb}.pdf")
    assert again["label_url"] == first["label_url"] and first["not_created"] == []


async def test_manifest_only_after_the_pickup_and_only_once(sim: ShiprocketSim, api: Api) -> None:
    created, awb = await api.shipped("ZD-4", pickup=False)
    ids = {"shipment_id": [created["shipment_id"]]}
    early = await api.post("/manifests/generate", ids)
    assert (early.status_code, early.json()) == (200, {"status": 1, "manifest_url": ""})  # refusal inside a 200
    await api.post("/courier/generate/pickup", ids)
    made = (await api.post("/manifests/generate", ids)).json()
    assert made["status"] == 1 and made["manifest_url"].endswith(".pdf")
    again = await api.post("/manifests/generate", ids)
    assert again.status_code == 400 and again.json()["already_manifested_shipment_ids"] == [created["shipment_id"]]
    assert "manifest_url" not in again.json()
    printed = (await api.post("/manifests/print", {"order_ids": [created["order_id"]]})).json()
    assert printed["manifest_url"].endswith(made["manifest_url"].rsplit("/", 1)[-1])
    wrong_key = await api.post("/manifests/print", {"shipment_id": [created["shipment_id"]]})
    assert wrong_key.status_code == 500  # the gotcha public clients hit: print takes *order* ids


async def test_cancel_before_pickup_works_and_after_pickup_is_refused(sim: ShiprocketSim, api: Api) -> None:
    early, _ = await api.shipped("ZD-5")  # pickup requested, not collected: still cancellable
    assert (await api.post("/orders/cancel", {"ids": [early["order_id"]]})).status_code == 204
    assert (await api.post("/orders/cancel", {"ids": [early["order_id"]]})).status_code == 204  # repeat: no-op
    assert sim.orders[early["order_id"]]["status"] == "CANCELED"
    late, awb = await api.shipped("ZD-6")
    sim.advance(awb, 42)
    refused = await api.post("/orders/cancel", {"ids": [late["order_id"]]})
    assert refused.status_code == 400 and "picked up" in refused.json()["message"]
    assert sim.orders[late["order_id"]]["status_code"] != 5
    cancelled_pickup = await api.post("/courier/generate/pickup", {"shipment_id": [early["shipment_id"]]})
    assert cancelled_pickup.status_code == 400


async def test_wrapper_does_every_step_and_refuses_a_repeat(sim: ShiprocketSim, api: Api) -> None:
    body = {**adhoc("ZD-7"), "courier_id": ""}
    done = (await api.post("/shipments/create/forward-shipment", body)).json()
    payload = done["payload"]
    assert done["status"] == 1 and all(payload[k] == 1 for k in (
        "order_created", "awb_generated", "pickup_generated", "label_generated", "manifest_generated"))
    assert payload["awb_code"] and payload["label_url"] and payload["manifest_url"]
    assert payload["pickup_token_number"].startswith("Reference No:")
    repeat = (await api.post("/shipments/create/forward-shipment", body)).json()
    assert repeat["status"] == 0 and "Cannot reassign courier" in repeat["payload"]["error_message"]
    assert len(sim.orders) == 1
