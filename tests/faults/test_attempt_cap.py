"""Nothing loops forever without an alert: a fulfilment step that keeps failing is parked as
`stalled` with an alert after FULFIL_MAX_ATTEMPTS runs, and the sweeper stops re-enqueueing it."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.fulfilment.service import fulfil
from app.integrations.http import RetryableUpstreamError
from app.jobs import sweep
from app.main import create_app
from app.models import Shipment
from app.services import build_services
from tests.harness import api_client
from tests.spine_helpers import alerts, confirmed_order, deliver, shipment


async def _received_order(svc, zoho_sim) -> str:
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client:
        await deliver(client, zoho_sim, so_id)
    await (await svc.queue.pool()).flushdb()  # this test drives the job itself
    from app.fulfilment.handler import accept_salesorder
    from tests.spine_helpers import inbox

    [event] = await inbox(svc)
    await accept_salesorder(svc, event)
    return so_id


async def test_a_step_failing_deterministically_is_parked_with_an_alert(svc, zoho_sim):
    capped = build_services(svc.settings.model_copy(update={"FULFIL_MAX_ATTEMPTS": 3}), engine=svc.engine)
    try:
        so_id = await _received_order(capped, zoho_sim)
        async with svc.sessionmaker.begin() as s:  # a stored order our own code cannot read: a bug
            await s.execute(update(Shipment).where(Shipment.salesorder_id == so_id).values(order={}))
        for _ in range(2):
            with pytest.raises(KeyError):
                await fulfil(capped, so_id)
            sh = await shipment(svc, so_id)
            assert sh.state == "received" and "KeyError" in sh.last_error
        assert await fulfil(capped, so_id) == "stalled"
    finally:
        await capped.queue.close()
        await capped.http.aclose()
    sh = await shipment(svc, so_id)
    assert sh.state == "stalled" and "after 3 failed attempts" in sh.last_error
    [alert] = await alerts(svc, "fulfilment_stalled")
    assert alert.salesorder_id == so_id and "received" in alert.message
    sh_row = await shipment(svc, so_id)
    async with svc.sessionmaker.begin() as s:  # long stale: the sweeper would have taken an active one
        await s.execute(update(Shipment).values(updated_at=sh_row.updated_at.replace(year=2020)))
    assert (await sweep(svc)).shipments_enqueued == 0


async def test_upstream_down_counts_attempts_and_a_move_resets_them(svc, shiprocket_sim, zoho_sim):
    """Two failures, then a success: the count starts again at the next step, so a long flow with a
    few blips never adds up to a stall."""
    # Steps one at a time (no order creation overlapping the serviceability check), so each run meets
    # exactly one fault and the count is the test's to predict.
    capped = build_services(svc.settings.model_copy(update={"FULFIL_MAX_ATTEMPTS": 3, "HTTP_MAX_RETRIES": 0,
                                                            "FULFIL_OVERLAP_ORDER_CREATION": False}),
                            engine=svc.engine)
    try:
        so_id = await _received_order(capped, zoho_sim)
        shiprocket_sim.faults.server_error("/courier/serviceability/", status=503, times=2)
        shiprocket_sim.faults.server_error("/orders/create/adhoc", status=503, times=2)
        for _ in range(4):
            with pytest.raises(RetryableUpstreamError):
                await fulfil(capped, so_id)
        assert await fulfil(capped, so_id) == "manifested"
    finally:
        await capped.queue.close()
        await capped.http.aclose()
    assert await alerts(svc, "fulfilment_stalled") == []
