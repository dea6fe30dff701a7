"""Pickup, label and manifest as fulfilment steps, end to end against the simulators on real Postgres and
Redis: the AWB reaches Zoho first, every step happens once even when a reply is lost, transient failures are
retried, and a refusal parks the order with an alert naming it."""

from __future__ import annotations

import pytest

from app.fulfilment.service import fulfil
from app.integrations.http import RetryableUpstreamError
from app.jobs import process_inbox_event
from app.main import create_app
from app.models import ShipmentLog
from tests.harness import api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, deliver, in_state, inbox, shipment

PICKUP, LABEL, MANIFEST = "/courier/generate/pickup", "/courier/generate/label", "/manifests/generate"


def calls(sim, path: str) -> int:
    return sum(1 for _, p in sim.calls if p == path)


async def booked_without_worker(svc, zoho_sim) -> tuple[str, int]:
    """A delivered webhook whose job we run ourselves (the queue is emptied)."""
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client:
        await deliver(client, zoho_sim, so_id)
    await (await svc.queue.pool()).flushdb()
    [event] = await inbox(svc)
    return so_id, event.id


async def test_an_order_is_dispatched_after_its_awb_is_on_zoho(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        sh = await eventually(in_state(svc, so_id, "manifested"))
    async with svc.sessionmaker() as s:
        steps = [e.step for e in (await s.execute(ShipmentLog.__table__.select()
                                                  .where(ShipmentLog.shipment_id == sh.id)
                                                  .order_by(ShipmentLog.id))).all()]
    assert steps == ["accepted", "courier_chosen", "order_created", "awb_assigned", "written_back",
                     "pickup_requested", "written_back", "labelled", "manifested"]
    sr = shiprocket_sim.shipments[int(sh.sr_shipment_id)]
    assert sr["pickup_generated_at"] is not None and sr["label_url"] == sh.label_url
    assert sr["manifest_url"] == sh.manifest_url
    assert sh.pickup_token_number.startswith("Reference No:") and sh.pickup_scheduled_date.tzinfo is not None
    # Calls per order: login, serviceability, create, assign (booking) + pickup, label, manifest (dispatch);
    # Zoho: the AWB write-back and the Pickup Scheduled write (item packages come from the webhook + cache).
    assert [p for _, p in shiprocket_sim.calls] == [
        "/auth/login", "/courier/serviceability/", "/orders/create/adhoc", "/courier/assign/awb",
        PICKUP, LABEL, MANIFEST]
    assert [m for m, p in zoho_sim.calls if "salesorders" in p and m != "GET"] == ["PUT", "PUT"]


@pytest.mark.parametrize("path", [PICKUP, LABEL, MANIFEST])
async def test_a_lost_reply_never_repeats_the_step(svc, shiprocket_sim, zoho_sim, path):
    """Shiprocket does the work but the reply never arrives (every retry too), so the job dies between the
    call and our commit; the rerun meets 'Already in Pickup Queue.', the same label, or 'already manifested'
    and records the step once."""
    so_id, event_id = await booked_without_worker(svc, zoho_sim)
    shiprocket_sim.faults.inject(path, status=502, body="<html>502 Bad Gateway</html>", times=1, after=True)
    shiprocket_sim.faults.server_error(path, status=502, times=10)  # the retries fail too
    with pytest.raises(RetryableUpstreamError):
        await process_inbox_event(svc, event_id)
    before = (await shipment(svc, so_id)).state
    shiprocket_sim.faults.reset()
    assert await fulfil(svc, so_id) == "manifested"
    sh = await shipment(svc, so_id)
    assert before == {PICKUP: "synced", LABEL: "pickup_scheduled", MANIFEST: "labelled"}[path]
    sr = shiprocket_sim.shipments[int(sh.sr_shipment_id)]
    assert sh.label_url == sr["label_url"] and sh.manifest_url
    assert sh.manifest_url.rsplit("/", 1)[-1] == sr["manifest_url"].rsplit("/", 1)[-1]
    assert shiprocket_sim.manifest_count == 1 and sh.pickup_requested_at is not None
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Pickup Scheduled"
    assert await alerts(svc) == []


async def test_5xx_and_429_are_retried_within_the_step(svc, shiprocket_sim, zoho_sim):
    shiprocket_sim.faults.server_error(PICKUP, status=503)
    shiprocket_sim.faults.rate_limit(LABEL, retry_after=0)
    shiprocket_sim.faults.server_error(MANIFEST, status=504)
    so_id, event_id = await booked_without_worker(svc, zoho_sim)
    assert await process_inbox_event(svc, event_id) == "done"
    sh = await shipment(svc, so_id)
    assert sh.state == "manifested" and sh.label_url and sh.manifest_url
    assert (calls(shiprocket_sim, PICKUP), calls(shiprocket_sim, LABEL), calls(shiprocket_sim, MANIFEST)) == (2, 2, 2)


@pytest.mark.parametrize(("path", "status", "body", "kind", "state", "shown"), [
    (PICKUP, 400, {"message": "Pickup address phone is not verified", "status_code": 400}, "pickup_failed",
     "pickup_failed", "AWB Assigned"),
    (LABEL, 200, {"label_created": 0, "not_created": [], "response": "No valid shipment ids to print label"},
     "label_failed", "label_failed", "Pickup Scheduled"),
    (MANIFEST, 200, {"status": 1, "manifest_url": ""}, "manifest_failed", "manifest_failed", "Pickup Scheduled"),
])
async def test_a_refusal_parks_the_order_and_names_it(svc, shiprocket_sim, zoho_sim, path, status, body, kind,
                                                      state, shown):
    shiprocket_sim.faults.inject(path, status=status, body=body)
    so_id, event_id = await booked_without_worker(svc, zoho_sim)
    await process_inbox_event(svc, event_id)
    sh = await shipment(svc, so_id)
    assert sh.state == state
    [alert] = await alerts(svc, kind)
    number = zoho_sim.salesorder(so_id)["salesorder_number"]
    assert alert.salesorder_id == so_id and number in alert.message and sh.awb in alert.message
    assert "Shiprocket's panel" in alert.message
    # The AWB write-back never waited for dispatch: Zoho has it whatever dispatch did.
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == shown
    assert await fulfil(svc, so_id) == state  # parked: a rerun calls nothing and alerts nothing more
    assert calls(shiprocket_sim, path) == 1 and len(await alerts(svc, kind)) == 1


async def test_zoho_refusing_pickup_scheduled_does_not_stop_the_parcel(svc, shiprocket_sim, zoho_sim):
    so_id, event_id = await booked_without_worker(svc, zoho_sim)
    shiprocket_sim.faults.server_error(PICKUP, status=502, times=10)
    with pytest.raises(RetryableUpstreamError):
        await process_inbox_event(svc, event_id)  # the AWB is on Zoho; the pickup waits
    shiprocket_sim.faults.reset()
    zoho_sim.faults.inject(f"/inventory/v1/salesorders/{so_id}", method="PUT", status=400,
                           body={"code": 1001, "message": "Invalid value for cf_shipment_status"})
    assert await fulfil(svc, so_id) == "manifested"
    [alert] = await alerts(svc, "writeback_failed")
    assert "Invalid value" in alert.message
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "AWB Assigned"
