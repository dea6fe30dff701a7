"""A real worker process is killed with SIGKILL at each Zoho call of a tracking side effect (the
picked-up parcel: package, shipment order, label) and of a COD remittance settlement (read the order,
post the payment, write the remittance id), each time after Zoho did the work and before the reply
reached us. A fresh worker and the sweeper finish the job; Zoho ends up with each record exactly once.
The kill points are recorded from a reference run, so calls added to those jobs are covered too."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest

from app.main import create_app
from app.models import Alert
from app.services import Services
from sandbox.faults import Fault
from tests.faults.invariants import shipments_of, swept_and_quiet
from tests.faults.kill_points import Call, new_calls, set_trap
from tests.faults.ledger import injected
from tests.faults.processes import kill, start_worker
from tests.harness import SHIPROCKET_WEBHOOK_TOKEN, api_client, eventually, running_worker
from tests.remittance.helpers import payments_for, remit
from tests.spine_helpers import confirmed_order, count, deliver
from tests.tracking.helpers import bodies, effects

pytestmark = pytest.mark.slow
HEADERS = {"Content-Type": "application/json", "x-api-key": SHIPROCKET_WEBHOOK_TOKEN}


async def _shipped(svc: Services, zoho_sim, n: int) -> list:
    so_ids = [confirmed_order(zoho_sim, qty=1 + i % 2) for i in range(n)]
    for so_id in so_ids:
        zoho_sim.invoice_salesorder(so_id)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        for so_id in so_ids:
            await deliver(client, zoho_sim, so_id)
        await eventually(lambda: swept_and_quiet(svc), timeout=60)
    return await shipments_of(svc, so_ids)


async def _reference(svc: Services, sims: dict, post: Callable[[], Awaitable[object]]) -> list[Call]:
    marks = {name: len(sim.calls) for name, sim in sims.items()}
    async with running_worker(svc):
        await post()
        await eventually(lambda: swept_and_quiet(svc), timeout=30)
    return new_calls(sims, marks)


async def _kill_at_each(svc: Services, sims: dict, trace: list[Call],
                        posts: list[Callable[[], Awaitable[object]]]) -> None:
    """Case i: trap the i-th call of the job (served, reply held), kill the worker there, recover."""
    assert trace, "the job made no upstream call to kill at"
    for i, (call, post) in enumerate(zip(trace, posts, strict=False)):
        trap = set_trap(sims, call, sum(1 for c in trace[:i] if c == call), served=True)
        injected(f"reply withheld at {call.sim} {call.method} {call.pattern}")
        doomed = start_worker()
        try:
            await post()
            await eventually(_tripped_check(trap), timeout=60)
        finally:
            kill(doomed)
            for sim in sims.values():
                sim.faults.reset()
        async with running_worker(svc):
            await eventually(lambda: swept_and_quiet(svc), timeout=45, interval=0.3)


def _tripped_check(trap: Fault) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return trap.tripped

    return check


async def test_worker_killed_at_each_call_of_a_tracking_effect(svc, shiprocket_sim, zoho_sim):
    sims = {"shiprocket": shiprocket_sim, "zoho": zoho_sim}
    parcels = await _shipped(svc, zoho_sim, 5)
    async with api_client(create_app(svc.settings, svc)) as client:
        def picked_up(sh) -> Callable[[], Awaitable[object]]:
            [body] = bodies(shiprocket_sim, sh.awb, [42])
            return lambda: client.post("/webhooks/tracking", content=json.dumps(body).encode(), headers=HEADERS)

        trace = await _reference(svc, sims, picked_up(parcels[0]))
        await _kill_at_each(svc, sims, trace, [picked_up(sh) for sh in parcels[1:]])
    killed = parcels[:1 + len(trace)]
    assert len(trace) <= len(parcels) - 1, "more kill points than parcels prepared"
    for sh in killed:
        fx = await effects(svc, sh.salesorder_id)
        assert all(e.state == "done" for e in fx.values()), fx
        assert zoho_sim.custom_field(sh.salesorder_id, "cf_shipment_status") == "Picked Up"
        assert sum(1 for p in zoho_sim.packages.values() if p["salesorder_id"] == sh.salesorder_id) == 1
    assert len(zoho_sim.shipments) == len(killed)
    assert await count(svc, Alert) == 0


async def test_worker_killed_at_each_call_of_a_remittance_settlement(svc, shiprocket_sim, zoho_sim):
    sims = {"shiprocket": shiprocket_sim, "zoho": zoho_sim}
    parcels = await _shipped(svc, zoho_sim, 5)
    for sh in parcels:
        shiprocket_sim.advance(sh.awb, 7)  # delivered at Shiprocket; the cash is what gets remitted
    batches = [remit(shiprocket_sim, [sh], ["40.00"]) for sh in parcels]
    async with api_client(create_app(svc.settings, svc)) as client:
        def remitted(body: dict) -> Callable[[], Awaitable[object]]:
            raw = json.dumps(body).encode()
            return lambda: client.post("/webhooks/cod-remittance", content=raw, headers=HEADERS)

        trace = await _reference(svc, sims, remitted(batches[0]))
        await _kill_at_each(svc, sims, trace, [remitted(b) for b in batches[1:]])
    assert len(trace) <= len(parcels) - 1, "more kill points than parcels prepared"
    for sh, body in list(zip(parcels, batches, strict=True))[:1 + len(trace)]:
        [payment] = payments_for(zoho_sim, body["remittance_id"], sh.awb)
        assert payment["invoices"][0]["amount_applied"] == payment["amount"]
        assert zoho_sim.custom_field(sh.salesorder_id, "cf_cod_remittance_id") == body["remittance_id"]
    assert await count(svc, Alert) == 0
