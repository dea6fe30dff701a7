"""Missed webhooks: the periodic poller re-reads tracking and applies it through the webhook's path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.models import Shipment
from app.tracking.poller import poll_tracking
from tests.spine_helpers import shipment
from tests.tracking.helpers import bodies, events, settled, shipped, stack


def track_calls(sim) -> int:
    return sum(1 for call in sim.calls if call == ("POST", "/courier/track/awbs"))


async def test_missed_webhook_is_recovered_by_the_polling_job(svc, shiprocket_sim, zoho_sim):
    from app.tracking import tasks as tracking_tasks

    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, terms="Prepaid")
        bodies(shiprocket_sim, sh.awb, [42, 18, 17, 7])  # the courier moved on; no webhook reached us
        assert await tracking_tasks.poll_tracking(svc) == str(await poll_tracking(svc))  # nothing due yet
        assert track_calls(shiprocket_sim) == 0
        later = datetime.now(UTC) + timedelta(seconds=svc.settings.TRACKING_POLL_AGE_SECONDS + 60)
        result = await poll_tracking(svc, now=later)
        done = await settled(svc, so_id, "delivered")
        again = await poll_tracking(svc, now=later + timedelta(seconds=1))

    assert (result.polled, result.answered) == (1, 1) and track_calls(shiprocket_sim) == 1
    assert again.polled == 0  # delivered is final: no more polling
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Delivered"
    assert len(zoho_sim.shipments) == 1  # the delivery was recorded in Zoho, as from a webhook
    [event] = await events(svc, sh.awb)
    assert (event.source, event.status, event.shipment_status_id) == ("poll", "delivered", 7)
    assert done.delivered_at == event.event_at and done.last_tracking_at == later


async def test_poller_batches_by_50_and_respects_age_and_lookback(svc, shiprocket_sim):
    now = datetime.now(UTC)
    async with svc.sessionmaker.begin() as session:
        for i in range(54):
            session.add(Shipment(salesorder_id=f"90{i:05d}", salesorder_number=f"SO-P{i}", channel_order_id=f"SO-P{i}",
                                 state="synced", order={}, payment_method="Prepaid", declared_value=Decimal(1),
                                 weight_kg=Decimal(1), length_cm=Decimal(1), breadth_cm=Decimal(1),
                                 height_cm=Decimal(1), awb=f"7700{i:06d}", created_at=now - timedelta(days=2)))
    async with svc.sessionmaker.begin() as session:
        await session.execute(update(Shipment).where(Shipment.salesorder_id == "9000000")
                              .values(created_at=now - timedelta(days=45)))  # outside the 30-day lookback
        await session.execute(update(Shipment).where(Shipment.salesorder_id == "9000001")
                              .values(last_tracking_at=now - timedelta(minutes=5)))  # heard of recently
        await session.execute(update(Shipment).where(Shipment.salesorder_id == "9000002")
                              .values(tracking_final=True, tracking_status="delivered"))

    result = await poll_tracking(svc, now=now)

    # 51 due: one call of 50 and one of 1 (Shiprocket refuses more than 50 a call)
    assert (result.polled, result.answered, result.failed_batches) == (51, 0, 0)  # Shiprocket knows none of them
    assert track_calls(shiprocket_sim) == 2
    async with svc.sessionmaker() as session:
        polled = set((await session.execute(select(Shipment.salesorder_id)
                                            .where(Shipment.last_tracking_at == now))).scalars())
    assert polled == {f"90{i:05d}" for i in range(3, 54)}  # every due AWB was asked about, and only those
    assert (await shipment(svc, "9000000")).last_tracking_at is None
    second = await poll_tracking(svc, now=now)
    assert second.polled == 0  # just polled: not due again until the age has passed


async def test_shiprocket_client_refuses_more_awbs_than_one_call_takes(svc):
    from app.integrations.shiprocket.client import TRACK_BATCH

    with pytest.raises(ValueError, match="at most 50"):
        await svc.aggregator.track([str(n) for n in range(TRACK_BATCH + 1)])


async def test_shiprocket_weight_disputes_are_refused_not_guessed(svc, shiprocket_sim):
    from datetime import date

    from app.integrations.shipping import UnsupportedByAggregator

    shiprocket_sim.calls.clear()
    with pytest.raises(UnsupportedByAggregator, match="Shiprocket has no API to list weight disputes"):
        await svc.aggregator.weight_disputes(date(2026, 3, 1), date(2026, 3, 18))
    assert shiprocket_sim.calls == [] and await svc.aggregator.blocked() is None
