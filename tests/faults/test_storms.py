"""Storms: every event delivered 5 times, concurrently and in shuffled order, across all three webhooks
(Zoho sales orders, Shiprocket tracking, COD remittance) while two workers run. Each order is booked
once, each tracking side effect happens once, each remittance line is paid once."""

from __future__ import annotations

import asyncio
import json
import random

import httpx
import pytest

from app.main import create_app
from tests.faults.invariants import alert_kinds, assert_one_booking_each, quiet, shipments_of, shipped, stuck
from tests.faults.ledger import injected
from tests.harness import SHIPROCKET_WEBHOOK_TOKEN, api_client, eventually, running_worker
from tests.remittance.helpers import books_posts, payments_for, remit
from tests.spine_helpers import confirmed_order, deliver
from tests.tracking.helpers import FORWARD, bodies

pytestmark = pytest.mark.slow
COPIES = 5


async def _post(client: httpx.AsyncClient, path: str, body: dict) -> int:
    raw = json.dumps(body).encode()
    r = await client.post(path, content=raw, headers={"Content-Type": "application/json",
                                                      "x-api-key": SHIPROCKET_WEBHOOK_TOKEN})
    return r.status_code


async def test_storm_of_duplicates_across_all_three_webhooks(svc, shiprocket_sim, zoho_sim):
    rng = random.Random(10)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc), running_worker(svc):
        # Cohort A is already shipped; its tracking and its remittance arrive in the storm, with the
        # sales-order webhooks of cohort B.
        shipped_ids = [confirmed_order(zoho_sim, qty=i + 1, number=f"SO-A{i}") for i in range(3)]
        for so_id in shipped_ids:
            zoho_sim.invoice_salesorder(so_id)
            await deliver(client, zoho_sim, so_id)
        shipped = await eventually(lambda: _all_synced(svc, shipped_ids), timeout=60)
        new_ids = [confirmed_order(zoho_sim, qty=1, number=f"SO-B{i}", terms="Prepaid" if i % 2 else "COD")
                   for i in range(5)]
        tracking = [b for sh in shipped for b in bodies(shiprocket_sim, sh.awb, FORWARD)]
        remittance = remit(shiprocket_sim, shipped, ["41.00", "42.00", "43.00"])
        sends = [lambda so_id=so_id: deliver(client, zoho_sim, so_id) for so_id in new_ids]
        sends += [lambda b=b: _post(client, "/webhooks/tracking", b) for b in tracking]
        sends.append(lambda: _post(client, "/webhooks/cod-remittance", remittance))
        storm = [send for send in sends for _ in range(COPIES)]
        rng.shuffle(storm)
        injected("duplicate delivery (storm)", len(storm) - len(sends))
        answers = await asyncio.gather(*(send() for send in storm))
        assert all((a if isinstance(a, int) else a.status_code) == 200 for a in answers)
        await eventually(lambda: quiet(svc), timeout=90)

    assert len(storm) == COPIES * (len(new_ids) + len(tracking) + 1)
    await assert_one_booking_each(svc, shiprocket_sim, zoho_sim, new_ids)
    for sh in await shipments_of(svc, shipped_ids):
        assert sh.tracking_status == "delivered"
        assert zoho_sim.custom_field(sh.salesorder_id, "cf_shipment_status") == "Delivered"
        [payment] = payments_for(zoho_sim, remittance["remittance_id"], sh.awb or "")
        assert payment["invoices"][0]["amount_applied"] == payment["amount"]
    # Tracking side effects once per parcel: one package and one shipment order each in Zoho.
    assert len(zoho_sim.packages) == len(shipped_ids) and len(zoho_sim.shipments) == len(shipped_ids)
    assert books_posts(zoho_sim) == len(shipped_ids)
    assert await stuck(svc) == dict.fromkeys(await stuck(svc), 0)
    assert not await alert_kinds(svc)


async def _all_synced(svc, so_ids):
    found = await shipments_of(svc, so_ids)
    return found if len(found) == len(so_ids) and all(shipped(sh) for sh in found) else None
