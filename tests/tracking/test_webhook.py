"""POST /webhooks/tracking: authentication, the dashboard's test request, malformed and unknown
bodies, and the real sample payloads applied to a real shipment."""

from __future__ import annotations

import json

from app.inbox import Source
from app.integrations.shiprocket.tracking import tracking_update
from app.main import create_app
from app.models import InboxEvent, InboxState
from app.tracking.repository import find_parcel
from app.tracking.service import ingest, process
from tests.harness import api_client, eventually
from tests.spine_helpers import count, inbox, shipment
from tests.tracking.helpers import bodies, events, inbox_idle, post, settled, shipped, stack
from tests.tracking.samples import SAMPLE_A, SAMPLE_B, SAMPLE_C


async def test_wrong_or_missing_api_key_is_refused_and_nothing_stored(svc):
    async with api_client(create_app(svc.settings, svc)) as client:
        wrong = await post(client, SAMPLE_A.encode(), key="not-the-token")
        missing = await post(client, SAMPLE_A.encode(), key=None)
        empty_wrong = await post(client, b"", key="x")
    assert (wrong.status_code, missing.status_code, empty_wrong.status_code) == (401, 401, 401)
    assert svc.settings.SHIPROCKET_WEBHOOK_TOKEN.get_secret_value() not in wrong.text
    assert await count(svc, InboxEvent) == 0


async def test_dashboard_test_request_gets_200(svc, zoho_sim, shiprocket_sim):
    """Saving the URL in Shiprocket's panel sends a test request, empty or with the sample body."""
    async with stack(svc) as client:
        empty = await post(client, b"")
        sample = await post(client, SAMPLE_A.encode())
        bare = await post(client, b"{}")
        await _idle(svc)
    assert (empty.status_code, sample.status_code, bare.status_code) == (200, 200, 200)
    rows = {e.body: e for e in await inbox(svc)}
    assert rows[b""].state == InboxState.invalid and "dashboard test" in rows[b""].reason
    assert rows[b"{}"].state == InboxState.invalid and "no awb" in rows[b"{}"].reason
    sample_row = rows[SAMPLE_A.encode()]
    assert sample_row.source == Source.tracking and sample_row.state == InboxState.ignored
    assert "19041424751540 is not a Shipbridge shipment" in sample_row.reason
    assert zoho_sim.calls == [] and shiprocket_sim.calls == []


async def test_real_sample_payloads_parse_and_apply(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim)
        sample_a = json.loads(SAMPLE_A) | {"awb": sh.awb}  # Sample A verbatim, on our AWB (a string)
        assert (await post(client, sample_a)).json()["accepted"] is True
        moving = await settled(svc, so_id, "in_transit")
        assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "In Transit"
        sample_b = json.loads(SAMPLE_B) | {"awb": int(sh.awb)}  # Sample B: numeric awb, older timestamps
        await post(client, sample_b)
        done = await settled(svc, so_id, "delivered")
    assert moving.last_event_at is not None and moving.last_event_at.year == 2023
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Delivered"
    assert done.delivered_at is not None and done.delivered_at.isoformat() == "2021-07-02T11:11:59+00:00"
    a, b = await events(svc, sh.awb)
    assert (a.shipment_status_id, a.current_status_id, a.scan_code, a.status) == (18, 20, "X-IBD3F", "in_transit")
    assert (b.shipment_status_id, b.shipment_status, b.status) == (7, "Delivered", "delivered")

    # Sample C (the tracking API answer) through the poller's path: same ingest + process.
    so2, sh2 = await _second_order(svc, zoho_sim, shiprocket_sim)
    sample_c = json.loads(SAMPLE_C)
    async with svc.sessionmaker() as session:
        ref = await find_parcel(session, sh2.awb)
    update = tracking_update(sh2.awb, sample_c)
    await process(svc, ref, wait_for=await ingest(svc, ref, update, source="poll"))
    assert (await shipment(svc, so2)).tracking_status == "delivered"
    assert zoho_sim.custom_field(so2, "cf_shipment_status") == "Delivered"


async def _second_order(svc, zoho_sim, shiprocket_sim):
    async with stack(svc) as client:
        return await shipped(svc, client, zoho_sim)


async def test_unknown_status_code_is_stored_and_harmless(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim)
        [moving] = bodies(shiprocket_sim, sh.awb, [18])
        await post(client, moving)
        await settled(svc, so_id, "in_transit")
        mark = len(zoho_sim.calls)
        odd = dict(moving, shipment_status_id=99, shipment_status="TELEPORTED", current_status_id=199,
                   current_timestamp="01 01 2030 10:00:00")
        answer = await post(client, odd)
        await _idle(svc)
        assert zoho_sim.calls[mark:] == []  # nothing written
        [delivered] = bodies(shiprocket_sim, sh.awb, [7])
        await post(client, delivered)  # and the pipeline carries on
        await settled(svc, so_id, "delivered")
    assert answer.status_code == 200 and answer.json()["accepted"] is True
    stored = [e for e in await events(svc, sh.awb) if e.shipment_status_id == 99]
    assert len(stored) == 1
    assert (stored[0].status, stored[0].shipment_status, stored[0].current_status_id) == ("unknown", "TELEPORTED", 199)
    assert stored[0].outcome == "recorded only: unknown status code shipment:99"
    row = next(e for e in await inbox(svc) if b"TELEPORTED" in e.body)
    assert row.state == InboxState.done and "unknown" in row.reason


async def _idle(svc) -> None:
    await eventually(lambda: inbox_idle(svc))
