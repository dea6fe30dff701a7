"""A sales order voided (or back in draft) after booking: cancelled on Shiprocket and shown as Cancelled
on Zoho, exactly once; too late once the courier has it (ops told what to do); never booked when the
void comes first. Real Postgres and Redis, the simulators, the real webhook path."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.fulfilment.cancel import cancel_shipment
from app.fulfilment.handler import accept_salesorder
from app.integrations.http import RetryableUpstreamError
from app.jobs import process_inbox_event
from app.main import create_app
from app.models import InboxEvent, OpsAction
from tests.harness import SHIPROCKET_WEBHOOK_TOKEN, api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, deliver, in_state, inbox, shipment

CANCEL = "/orders/cancel"


def as_status(zoho_sim, so_id: str, status: str, modified: str = "2030-01-01T10:00:00+0530") -> bytes:
    """The webhook Zoho sends once the order is voided / back in draft (a new last_modified_time)."""
    body = json.loads(zoho_sim.webhook_body(so_id))
    body["salesorder"].update(status=status, order_status=status, last_modified_time=modified)
    return json.dumps(body).encode()


def cancels(sim) -> int:
    return sum(1 for _, p in sim.calls if p == CANCEL)


async def booked(svc, client, zoho_sim) -> str:
    so_id = confirmed_order(zoho_sim)
    await deliver(client, zoho_sim, so_id)
    await eventually(in_state(svc, so_id, "manifested"))
    return so_id


def void_in_zoho(zoho_sim, so_id: str) -> bytes:
    """Void the order in the Zoho simulator and return the webhook Zoho then sends."""
    with zoho_sim._lock:
        zoho_sim._set_so_status(so_id, "void")
    return zoho_sim.webhook_body(so_id)


async def test_void_after_booking_cancels_on_shiprocket_once(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await booked(svc, client, zoho_sim)
        puts = sum(1 for m, _ in zoho_sim.calls if m == "PUT")
        answer = await deliver(client, zoho_sim, so_id, body=void_in_zoho(zoho_sim, so_id))
        sh = await eventually(in_state(svc, so_id, "cancelled"))
        # the same void again (a later edit of the voided order): nothing more happens upstream
        await deliver(client, zoho_sim, so_id, body=as_status(zoho_sim, so_id, "void", "2030-01-02T10:00:00+0530"))
        await eventually(lambda: _all_done(svc))
    assert answer.status_code == 200 and answer.json()["state"] == "pending"
    assert shiprocket_sim.orders[int(sh.sr_order_id)]["status"] == "CANCELED"
    assert sh.cancelled_at is not None and cancels(shiprocket_sim) == 1
    # Zoho refuses edits of a void order and shows "Void" itself: no write is attempted.
    assert zoho_sim.salesorder(so_id)["status"] == "void" and sh.status_label == "Cancelled"
    assert sum(1 for m, _ in zoho_sim.calls if m == "PUT") == puts
    reasons = [e.reason for e in await inbox(svc)]
    assert reasons[-2:] == ["sales order void in Zoho: cancelled", "sales order void in Zoho: already_cancelled"]
    assert await alerts(svc) == []


async def test_back_to_draft_after_booking_cancels_too(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await booked(svc, client, zoho_sim)
        await deliver(client, zoho_sim, so_id, body=as_status(zoho_sim, so_id, "draft"))
        sh = await eventually(in_state(svc, so_id, "cancelled"))
        await eventually(lambda: _label(zoho_sim, so_id, "Cancelled"))  # a draft is editable: it shows
    assert shiprocket_sim.orders[int(sh.sr_order_id)]["status"] == "CANCELED"


async def test_void_after_pickup_alerts_with_what_to_do(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await booked(svc, client, zoho_sim)
        sh = await shipment(svc, so_id)
        picked = shiprocket_sim.advance(sh.awb, 42)
        await client.post("/webhooks/tracking", json=picked, headers={"x-api-key": SHIPROCKET_WEBHOOK_TOKEN})
        await eventually(lambda: _label(zoho_sim, so_id, "Picked Up"))
        await deliver(client, zoho_sim, so_id, body=as_status(zoho_sim, so_id, "void"))
        [alert] = await eventually(lambda: alerts(svc, "cancel_refused"))
    number = zoho_sim.salesorder(so_id)["salesorder_number"]
    assert number in alert.message and sh.awb in alert.message and "RTO" in alert.message
    assert cancels(shiprocket_sim) == 0  # we knew it was too late: Shiprocket was not asked
    assert (await shipment(svc, so_id)).state == "manifested"


async def test_shiprocket_refusing_the_cancel_is_alerted(svc, shiprocket_sim, zoho_sim):
    """The courier scanned the parcel but its tracking webhook has not reached us yet."""
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await booked(svc, client, zoho_sim)
        shiprocket_sim.advance((await shipment(svc, so_id)).awb, 42)  # no webhook delivered
    assert await cancel_shipment(svc, so_id, reason="customer changed mind", actor="ops:asha") == "refused_alerted"
    [alert] = await alerts(svc, "cancel_refused")
    assert "picked up" in alert.message and "customer changed mind" in alert.message
    assert (await shipment(svc, so_id)).cancelled_at is None


async def test_a_lost_cancel_reply_is_repeated_harmlessly(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await booked(svc, client, zoho_sim)
    shiprocket_sim.faults.inject(CANCEL, status=502, body="<html>502</html>", after=True)
    shiprocket_sim.faults.server_error(CANCEL, status=502, times=10)
    with pytest.raises(RetryableUpstreamError):
        await cancel_shipment(svc, so_id, reason="voided")
    assert (await shipment(svc, so_id)).state == "manifested"  # Shiprocket cancelled; we did not commit
    shiprocket_sim.faults.reset()
    assert await cancel_shipment(svc, so_id, reason="voided") == "cancelled"
    assert await cancel_shipment(svc, so_id, reason="voided") == "already_cancelled"
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Cancelled"


async def test_void_before_the_job_runs_means_never_booked(svc, shiprocket_sim, zoho_sim):
    """The confirmed webhook is stored but its job has not run (or runs after the void): never booked."""
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client:
        await deliver(client, zoho_sim, so_id)
        await deliver(client, zoho_sim, so_id, body=as_status(zoho_sim, so_id, "void"))
    await (await svc.queue.pool()).flushdb()
    confirmed, void = await inbox(svc)
    assert await process_inbox_event(svc, void.id) == "done"
    assert await process_inbox_event(svc, confirmed.id) == "done"
    sh = await shipment(svc, so_id)
    assert sh.state == "cancelled" and sh.sr_order_id is None and shiprocket_sim.orders == {}
    assert shiprocket_sim.calls == [] and zoho_sim.custom_field(so_id, "cf_shipment_status") in (None, "")


async def test_void_after_acceptance_but_before_fulfilment_is_not_booked(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client:
        await deliver(client, zoho_sim, so_id)
    await (await svc.queue.pool()).flushdb()
    [event] = await inbox(svc)
    async with svc.sessionmaker() as s:
        await accept_salesorder(svc, await s.get(InboxEvent, event.id))  # the row exists, nothing booked yet
    assert await cancel_shipment(svc, so_id, reason="sales order void in Zoho") == "not_booked"
    assert await process_inbox_event(svc, event.id) == "done"  # the job runs late: still nothing booked
    assert (await shipment(svc, so_id)).state == "cancelled" and shiprocket_sim.orders == {}


async def test_draft_without_a_shipment_is_ignored(svc, zoho_sim):
    so_id = confirmed_order(zoho_sim, confirm=False)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id, body=as_status(zoho_sim, so_id, "draft"))
        await eventually(lambda: _all_done(svc))
    [event] = await inbox(svc)
    assert event.state == "ignored" and await shipment(svc, so_id) is None


async def _label(zoho_sim, so_id: str, value: str) -> bool:
    return zoho_sim.custom_field(so_id, "cf_shipment_status") == value


async def _all_done(svc) -> bool:
    return all(e.state != "pending" for e in await inbox(svc))


async def test_ops_can_cancel_through_the_api(svc, shiprocket_sim, zoho_sim):
    from tests.harness import OPS_TOKEN

    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await booked(svc, client, zoho_sim)
        path = f"/ops/shipments/{so_id}/cancel"
        refused = await client.post(path, json={})
        done = await client.post(path, json={"reason": "customer asked", "actor": "ops:asha"},
                                 headers={"Authorization": f"Bearer {OPS_TOKEN}"})
        again = await client.post(path, json={}, headers={"Authorization": f"Bearer {OPS_TOKEN}"})
        unknown = await client.post("/ops/shipments/123/cancel", json={},
                                    headers={"Authorization": f"Bearer {OPS_TOKEN}"})
    assert refused.status_code == 401 and cancels(shiprocket_sim) == 1
    assert done.json() == {"salesorder_id": so_id, "outcome": "cancelled"}
    assert again.json()["outcome"] == "already_cancelled" and unknown.status_code == 404
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Cancelled"
    # Recorded like every ops action, under the authenticated operator beside the name the caller gave.
    async with svc.sessionmaker() as session:
        rows = (await session.execute(select(OpsAction.actor, OpsAction.outcome, OpsAction.detail)
                                      .where(OpsAction.target == f"order:{so_id}").order_by(OpsAction.id))).all()
    assert [tuple(r) for r in rows] == [("api:ops:asha", "done", "cancelled"), ("api:ops", "noop", "already_cancelled")]


async def test_a_create_whose_reply_was_lost_is_found_and_cancelled(svc, shiprocket_sim, zoho_sim):
    """Shiprocket made the order but the job died before recording it (state courier_chosen): the cancel
    looks the order up by our own order id so no orphan order is left booked."""
    so_id = confirmed_order(zoho_sim, number="SO-LOST-1")
    shiprocket_sim.faults.inject("/orders/create/adhoc", status=502, body="<html>502</html>", after=True)
    shiprocket_sim.faults.server_error("/orders/create/adhoc", status=502, times=10)
    async with api_client(create_app(svc.settings, svc)) as client:
        await deliver(client, zoho_sim, so_id)
    await (await svc.queue.pool()).flushdb()
    [event] = await inbox(svc)
    with pytest.raises(RetryableUpstreamError):
        await process_inbox_event(svc, event.id)
    assert (await shipment(svc, so_id)).state == "courier_chosen"
    shiprocket_sim.faults.reset()
    assert await cancel_shipment(svc, so_id, reason="voided") == "cancelled"
    [order] = shiprocket_sim.orders.values()
    sh = await shipment(svc, so_id)
    assert order["status"] == "CANCELED" and sh.sr_order_id == str(order["order_id"])
