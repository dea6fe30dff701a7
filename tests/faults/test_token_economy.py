"""Token economy under load: three worker processes and two API processes share one Zoho access token
and one Shiprocket token through Postgres. A batch costs one Zoho token request and one Shiprocket
login in all; when both upstreams stop honouring the tokens (an hour later for Zoho, an early expiry for
Shiprocket), every process meets the refusal at once and there is exactly one new request of each."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from sandbox.server import free_port
from tests.faults.invariants import assert_one_booking_each, quiet, shipments_of, shipped
from tests.faults.ledger import injected
from tests.faults.processes import api_ready, start_api, start_worker, stop
from tests.harness import SHIPROCKET_WEBHOOK_TOKEN, WEBHOOK_SECRET, eventually
from tests.spine_helpers import confirmed_order, deliver
from tests.tracking.helpers import bodies

pytestmark = pytest.mark.slow


async def test_every_process_shares_one_token_per_lifetime(svc, shiprocket_sim, zoho_sim):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs = [start_api(port, workers=2)] + [start_worker() for _ in range(3)]
    try:
        await eventually(lambda: api_ready(url), timeout=60, interval=0.2)
        first = [confirmed_order(zoho_sim, number=f"SO-TK{i}") for i in range(8)]
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:
            answers = await asyncio.gather(*(deliver(client, zoho_sim, so_id, secret=WEBHOOK_SECRET)
                                             for so_id in first))
            assert {a.status_code for a in answers} == {200}
            await eventually(lambda: _synced_and_quiet(svc, first), timeout=90, interval=0.2)
            assert zoho_sim.token_requests == 1 and shiprocket_sim.login_count == 1

            zoho_sim.advance_time(3600)  # every Zoho token issued has lapsed at Zoho
            shiprocket_sim.expire_tokens()  # Shiprocket's expires before the JWT says
            injected("upstream token lapsed under load", 2)
            second = [confirmed_order(zoho_sim, number=f"SO-TL{i}") for i in range(8)]
            shipped = await shipments_of(svc, first)
            picked_up = [b for sh in shipped for b in bodies(shiprocket_sim, sh.awb or "", [42])]
            sends = [deliver(client, zoho_sim, so_id, secret=WEBHOOK_SECRET) for so_id in second]
            sends += [client.post("/webhooks/tracking", json=b, headers={"x-api-key": SHIPROCKET_WEBHOOK_TOKEN})
                      for b in picked_up]
            assert {a.status_code for a in await asyncio.gather(*sends)} == {200}
            await eventually(lambda: _synced_and_quiet(svc, first + second), timeout=90, interval=0.2)
        assert zoho_sim.token_requests == 2  # one per token life, across five processes
        assert shiprocket_sim.login_count == 2
        await assert_one_booking_each(svc, shiprocket_sim, zoho_sim, first + second)
        assert len(zoho_sim.shipments) == len(first)  # the picked-up parcels were recorded in Zoho
    finally:
        for proc in procs:
            stop(proc)


async def _synced_and_quiet(svc, so_ids) -> bool:
    found = await shipments_of(svc, so_ids)
    return len(found) == len(so_ids) and all(shipped(sh) for sh in found) and await quiet(svc)
