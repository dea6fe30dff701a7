"""Upstreams misbehaving together, for a whole batch (booking, tracking, remittance): 30% of calls to
both simulators fail (HTML 502/503, half of them after the upstream did the work; 429 with Retry-After;
replies slower than our timeout), Zoho's access token is refused mid-batch and Shiprocket's token
expires mid-batch. The end state is the same as on a calm day."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.main import create_app
from app.services import build_services
from tests.faults.invariants import alert_kinds, assert_one_booking_each, shipments_of, swept_and_quiet
from tests.faults.ledger import injected
from tests.harness import SHIPROCKET_WEBHOOK_TOKEN, api_client, eventually, running_worker
from tests.remittance.helpers import books_posts, payments_for, remit
from tests.spine_helpers import confirmed_order, deliver
from tests.tracking.helpers import FORWARD, bodies

pytestmark = pytest.mark.slow


async def test_batch_survives_flaky_upstreams_and_expiring_tokens(settings, clean, shiprocket_sim, zoho_sim):
    # A client timeout short enough to keep the test quick; the slow replies take longer than it.
    svc = build_services(settings.model_copy(update={"HTTP_TIMEOUT_SECONDS": 1.0}))
    headers = {"Content-Type": "application/json", "x-api-key": SHIPROCKET_WEBHOOK_TOKEN}
    try:
        so_ids = [confirmed_order(zoho_sim, qty=i % 3 + 1, number=f"SO-CH{i}") for i in range(5)]
        for so_id in so_ids:
            zoho_sim.invoice_salesorder(so_id)
        async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
            shiprocket_sim.faults.chaos(0.3, timeout=1.5, seed=1)
            zoho_sim.faults.chaos(0.3, timeout=1.5, seed=2)
            for i, so_id in enumerate(so_ids):
                await deliver(client, zoho_sim, so_id)
                if i == len(so_ids) // 2:
                    zoho_sim.expire_tokens()  # refused mid-batch: refreshed once, shared
                    shiprocket_sim.expire_tokens()
                    injected("upstream token revoked mid-batch", 2)
            await eventually(lambda: swept_and_quiet(svc), timeout=150, interval=0.5)
            shipped = await shipments_of(svc, so_ids)
            for sh in shipped:  # the courier's statuses arrive in order, parcels in parallel
                for body in bodies(shiprocket_sim, sh.awb or "", FORWARD):
                    await client.post("/webhooks/tracking", content=json.dumps(body).encode(), headers=headers)
            remittance = remit(shiprocket_sim, shipped)
            await client.post("/webhooks/cod-remittance", content=json.dumps(remittance).encode(), headers=headers)
            await asyncio.sleep(0.5)
            await eventually(lambda: swept_and_quiet(svc), timeout=150, interval=0.5)
            chaos = {kind: 0 for kind in shiprocket_sim.faults.chaos_injected | zoho_sim.faults.chaos_injected}
            for box in (shiprocket_sim.faults, zoho_sim.faults):
                for kind, n in box.chaos_injected.items():
                    chaos[kind] += n
                    injected(f"upstream answered {kind}", n)
            shiprocket_sim.faults.reset()
            zoho_sim.faults.reset()
        await assert_one_booking_each(svc, shiprocket_sim, zoho_sim, so_ids)
        for sh in await shipments_of(svc, so_ids):
            assert sh.tracking_status == "delivered"
            assert len(payments_for(zoho_sim, remittance["remittance_id"], sh.awb or "")) == 1
        assert len(zoho_sim.packages) == len(so_ids) and len(zoho_sim.shipments) == len(so_ids)
        assert len(zoho_sim.payments) == len(so_ids) and books_posts(zoho_sim) >= len(so_ids)
        assert sum(chaos.values()) >= 10, chaos  # ~30% of ~70 calls; seeded
        kinds = await alert_kinds(svc)
        assert set(kinds) <= {"credentials_refused"}, kinds  # nothing failed for good
    finally:
        await svc.close()
