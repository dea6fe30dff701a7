"""Work a crashed job left behind (an event stored but never applied, a parcel whose side effects were
not all done) is finished by the sweeper's tracking resumer, whether or not the tracking poller runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app import jobs
from app.integrations.shiprocket.tracking import parse_webhook
from app.models import Shipment
from app.tracking import service
from app.tracking.models import TrackingEvent
from app.tracking.parcels import ref_of
from tests.spine_helpers import shipment
from tests.tracking.helpers import RTO, bodies, drive, effects, events, settled, shipped, stack


async def test_sweep_finishes_unapplied_events_and_unsettled_parcels(svc, shiprocket_sim, zoho_sim, monkeypatch):
    async with stack(svc) as client:
        so_a, a = await shipped(svc, client, zoho_sim, terms="Prepaid")
        so_b, b = await shipped(svc, client, zoho_sim, terms="Prepaid")
    # No worker from here on. A: the job stored the courier's "picked up" and died before applying it.
    [body_a] = bodies(shiprocket_sim, a.awb, [42])
    await service.ingest(svc, ref_of(a), parse_webhook(json.dumps(body_a).encode()), source="webhook")
    # B: the job applied "picked up" and died before its side effects and label were done.
    [body_b] = bodies(shiprocket_sim, b.awb, [42])
    await service.ingest(svc, ref_of(b), parse_webhook(json.dumps(body_b).encode()), source="webhook")
    assert await service._fold(svc, ref_of(b)) == 1
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    async with svc.sessionmaker.begin() as s:
        await s.execute(update(TrackingEvent).values(received_at=long_ago))
        await s.execute(update(Shipment).where(Shipment.id == b.id).values(updated_at=long_ago))

    with monkeypatch.context() as m:  # without the tracking resumer the sweeper cannot see this work
        m.delitem(jobs.RESUMERS, "tracking")
        assert (await jobs.sweep(svc)).resumed == {}
    assert not (await events(svc, a.awb))[0].applied and not (await shipment(svc, so_b)).tracking_settled

    result = await jobs.sweep(svc)

    assert result.resumed == {"tracking": 2}
    [event_a] = await events(svc, a.awb)
    assert event_a.applied
    for so_id in (so_a, so_b):
        sh = await shipment(svc, so_id)
        assert (sh.tracking_status, sh.tracking_settled) == ("picked_up", True)
        assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Picked Up"
        assert (await effects(svc, so_id))["shipment:zoho_shipment"].state == "done"
    assert (await jobs.sweep(svc)).resumed == {}  # nothing left


async def test_resettling_a_finished_rto_costs_no_zoho_call(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, qty=2, invoiced=True)
        await drive(client, shiprocket_sim, sh.awb, RTO, svc)
        await settled(svc, so_id, "rto_delivered")
    fx = await effects(svc, so_id)
    assert fx["shipment:credit_note"].state == fx["shipment:credit_apply"].state == "done"
    # e.g. a job that died after its side effects but before marking the parcel settled
    async with svc.sessionmaker.begin() as s:
        await s.execute(update(Shipment).where(Shipment.id == sh.id).values(tracking_settled=False))
    mark = len(zoho_sim.calls)

    await service.process(svc, ref_of(sh))

    assert zoho_sim.calls[mark:] == []
    async with svc.sessionmaker() as s:
        assert await s.scalar(select(Shipment.tracking_settled).where(Shipment.id == sh.id))
