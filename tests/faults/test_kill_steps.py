"""A real worker process is killed with SIGKILL at every fulfilment step in turn, after the step's
upstream call was served but before the reply reached us: the worst moment, Shiprocket or Zoho changed
and our database did not. (`served=False`, a kill while the call is still queued upstream, is the milder
case; the older test_spine_resilience covers it at assign_awb.) A fresh worker and
the sweeper then finish the order: one Shiprocket order, one AWB, the AWB on the sales order."""

from __future__ import annotations

import asyncio

import pytest

from app.fulfilment.service import STEPS
from app.jobs import sweep
from app.main import create_app
from app.models import Alert
from tests.faults.kill_points import record_trace, set_trap
from tests.faults.ledger import injected
from tests.faults.processes import kill, start_worker
from tests.harness import api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, count, deliver, in_state

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("served", [True], ids=["reply-lost"])
@pytest.mark.parametrize("step", [str(s) for s in STEPS])
async def test_worker_killed_at_each_fulfilment_step(svc, shiprocket_sim, zoho_sim, step, served):
    await record_trace(svc, shiprocket_sim, zoho_sim)  # warms tokens and the item cache
    trace = await record_trace(svc, shiprocket_sim, zoho_sim)
    if step not in trace.steps():
        pytest.skip(f"{step} makes no upstream call on a plain order")
    call, skip = trace.point(step, "last" if served else "first")
    sims = {"shiprocket": shiprocket_sim, "zoho": zoho_sim}
    orders_before = len(shiprocket_sim.orders)
    trap = set_trap(sims, call, skip, served=served)
    injected(f"reply withheld at {call.sim} {call.method} {call.pattern}")
    so_id = confirmed_order(zoho_sim)
    doomed = start_worker()
    try:
        async with api_client(create_app(svc.settings, svc)) as client:
            await deliver(client, zoho_sim, so_id)
        await eventually(lambda: _tripped(trap), timeout=60)
    finally:
        kill(doomed)
        shiprocket_sim.faults.reset()
        zoho_sim.faults.reset()
    async with running_worker(svc):
        await asyncio.sleep(1.1)  # SWEEP_STALE_SECONDS=1: the shipment is now stalled work
        await sweep(svc)
        sh = await eventually(in_state(svc, so_id, trace.final_state), timeout=30)
    assert len(shiprocket_sim.orders) == orders_before + 1  # exactly one booking for this order
    assert sh.awb and zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    live = [o for o in shiprocket_sim.orders.values() if o["channel_order_id"] == sh.channel_order_id]
    assert len(live) == 1 and str(live[0]["order_id"]) == sh.sr_order_id
    assert await alerts(svc) == [] and await count(svc, Alert) == 0


async def _tripped(trap) -> bool:
    return trap.tripped
