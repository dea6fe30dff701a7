"""Failure paths of the spine that need a person: each ends in a named state with one alert, and the
sweeper and alert delivery behave when things stay broken."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI, Request

from app.fulfilment.order_mapping import to_ship_order
from app.fulfilment.service import fulfil
from app.integrations.http import RetryableUpstreamError
from app.jobs import process_inbox_event, sweep
from app.main import create_app
from app.models import InboxEvent, InboxState
from app.services import build_services
from sandbox.server import ThreadedServer
from tests.harness import api_client
from tests.spine_helpers import alerts, confirmed_order, deliver, inbox, shipment


async def _accept(svc, zoho_sim, so_id: str, body: bytes | None = None) -> InboxEvent:
    async with api_client(create_app(svc.settings, svc)) as client:
        await deliver(client, zoho_sim, so_id, body=body)
    await (await svc.queue.pool()).flushdb()  # these tests drive the jobs themselves
    return (await inbox(svc))[-1]


async def test_zoho_refusing_the_write_back_parks_the_order_with_an_alert(svc, zoho_sim):
    """A custom field the seller never created: Zoho refuses the PUT, so the order stops at
    writeback_failed (the AWB is kept) instead of retrying forever."""
    wrong = build_services(svc.settings.model_copy(update={"CF_COURIER_PARTNER": "cf_not_created"}), engine=svc.engine)
    so_id = confirmed_order(zoho_sim)
    try:
        event = await _accept(wrong, zoho_sim, so_id)
        assert await process_inbox_event(wrong, event.id) == "done"
    finally:
        await wrong.queue.close()
        await wrong.http.aclose()
    sh = await shipment(svc, so_id)
    assert sh.state == "writeback_failed" and sh.awb and "custom_fields" in sh.last_error
    [alert] = await alerts(svc, "writeback_failed")
    assert sh.salesorder_number in alert.message
    assert zoho_sim.custom_field(so_id, "cf_awb_number") is None  # all-or-nothing PUT: nothing half-written


async def test_order_missing_data_even_in_zoho_is_invalid_with_an_alert(svc, zoho_sim, shiprocket_sim):
    so_id = confirmed_order(zoho_sim)
    so = json.loads(zoho_sim.webhook_body(so_id))["salesorder"]
    so["shipping_address"].pop("zip")  # the payload lacks the pincode ...
    zoho_sim.faults.inject(f"/inventory/v1/salesorders/{so_id}", method="GET",  # ... and so does Zoho's copy
                           body={"code": 0, "message": "success", "salesorder": so})
    event = await _accept(svc, zoho_sim, so_id, body=json.dumps({"salesorder": so}).encode())
    assert await process_inbox_event(svc, event.id) == InboxState.invalid
    [stored] = await inbox(svc)
    assert "shipping_address.zip" in stored.reason
    [alert] = await alerts(svc, "order_data_missing")
    assert "shipping_address.zip" in alert.message
    assert await shipment(svc, so_id) is None and shiprocket_sim.calls == []


async def test_order_id_held_by_a_cancelled_order_books_under_a_suffix(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim, number="SO-CXL-1")
    order = to_ship_order(zoho_sim.salesorder(so_id), cf_payment_method="cf_payment_method",
                          defaults=svc.parcel_defaults)
    old = await svc.aggregator.create_order(order, "SO-CXL-1")
    await svc.aggregator.cancel([old.order_id])  # cancelled in Shiprocket's panel, say
    event = await _accept(svc, zoho_sim, so_id)
    await process_inbox_event(svc, event.id)
    sh = await shipment(svc, so_id)
    assert sh.state == "manifested" and sh.channel_order_id == "SO-CXL-1-R1" and sh.sr_order_id != old.order_id
    assert shiprocket_sim.order_by_channel_id("SO-CXL-1")["status"].upper().startswith("CANCEL")
    assert shiprocket_sim.order_by_channel_id("SO-CXL-1-R1") is not None


async def test_duplicate_order_id_that_cannot_be_found_fails_the_order(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim, number="SO-GHOST-1")
    order = to_ship_order(zoho_sim.salesorder(so_id), cf_payment_method="cf_payment_method",
                          defaults=svc.parcel_defaults)
    await svc.aggregator.create_order(order, "SO-GHOST-1")
    shiprocket_sim.duplicate_order_mode = "error_422"
    shiprocket_sim.faults.inject("/orders", method="GET", body={"data": []})  # the lookup finds nothing
    event = await _accept(svc, zoho_sim, so_id)
    await process_inbox_event(svc, event.id)
    sh = await shipment(svc, so_id)
    assert sh.state == "order_failed" and "cannot find it" in sh.last_error
    assert len(await alerts(svc, "order_failed")) == 1
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Order Failed"


async def test_zoho_token_throttle_is_retryable_not_fatal(svc, zoho_sim):
    """Zoho blocks an 11th token request within 10 minutes: that is 'try later', never a failed order."""
    token = await svc.zoho.token.get()
    with pytest.raises(RetryableUpstreamError, match="throttled"):
        for _ in range(zoho_sim.token_limit):
            token = await svc.zoho.token.invalidate(token)  # each forces a fresh token request
    assert zoho_sim.token_requests == zoho_sim.token_limit + 1


async def test_sweeper_parks_an_event_that_keeps_failing(svc, zoho_sim):
    async with svc.sessionmaker.begin() as s:
        s.add(InboxEvent(source="zoho_salesorder", dedupe_key="stuck", body=b"{}", content_type="application/json",
                         subject="123", attempts=8, received_at=datetime.now(UTC) - timedelta(hours=1)))
    result = await sweep(svc)
    assert result.inbox_parked == 1 and result.inbox_enqueued == 0
    [event] = await inbox(svc)
    assert event.state == InboxState.failed and "gave up after 8 attempts" in event.reason
    assert len(await alerts(svc, "inbox_failed")) == 1


async def test_alerts_are_pushed_to_the_alert_webhook_and_retried_when_it_fails(svc, shiprocket_sim, zoho_sim):
    received: list[dict] = []
    answers = [500]  # the first push fails

    hook = FastAPI()

    @hook.post("/hook")
    async def take(request: Request) -> dict:
        status = answers.pop(0) if answers else 200
        if status != 200:
            from fastapi import HTTPException

            raise HTTPException(status)
        received.append(await request.json())
        return {"ok": True}

    server = ThreadedServer(hook).start()
    pushing = build_services(svc.settings.model_copy(update={"ALERT_WEBHOOK_URL": f"{server.url}/hook"}),
                             engine=svc.engine)
    try:
        shiprocket_sim.unserviceable_pincodes.add("744101")
        so_id = confirmed_order(zoho_sim, pincode="744101")
        event = await _accept(pushing, zoho_sim, so_id)
        await process_inbox_event(pushing, event.id)
        assert (await sweep(pushing)).alerts_delivered == 0  # the hook answered 500: kept for later
        assert (await sweep(pushing)).alerts_delivered == 1
        assert (await sweep(pushing)).alerts_delivered == 0  # delivered once, not again
    finally:
        server.stop()
        await pushing.queue.close()
        await pushing.http.aclose()
    [message] = received
    assert message["kind"] == "serviceability_failed" and "744101" in message["text"]
    assert message["salesorder_id"] == so_id


async def test_fulfil_of_an_unknown_order_does_nothing(svc, shiprocket_sim):
    assert await fulfil(svc, "4815000000000099999") == "unknown"
    assert shiprocket_sim.calls == []
