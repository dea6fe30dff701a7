"""Two Zoho sales orders with the same number (manual numbering, a number reused after a delete):
Shiprocket hands the second one the first one's order and AWB. Each must end with its own booking,
and nothing may sit in a mid-flow state without an error and an alert."""

from __future__ import annotations

import asyncio

from app.main import create_app
from app.models import Shipment
from sandbox.zoho import ZohoSim
from tests.faults.ledger import injected
from tests.harness import api_client, eventually, running_worker
from tests.spine_helpers import confirmed_order, deliver, in_state, shipment


def _delete_in_zoho(zoho: ZohoSim, so_id: str) -> None:
    """The seller deletes the sales order in Zoho, freeing its number (manual numbering)."""
    with zoho._lock:
        del zoho.salesorders[so_id]
    injected("sales order number reused")


def _assert_distinct_bookings(first: Shipment, second: Shipment, shiprocket_sim) -> None:
    assert first.sr_order_id != second.sr_order_id and first.sr_shipment_id != second.sr_shipment_id
    assert first.awb and second.awb and first.awb != second.awb
    assert first.channel_order_id != second.channel_order_id
    assert len(shiprocket_sim.orders) == 2
    by_id = {str(o["order_id"]): o for o in shiprocket_sim.orders.values()}
    for sh in (first, second):
        assert by_id[str(sh.sr_order_id)]["channel_order_id"] == sh.channel_order_id


async def test_number_reused_after_delete_is_booked_under_its_own_order_id(svc, shiprocket_sim, zoho_sim):
    first_id = confirmed_order(zoho_sim, number="SO-77")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, first_id)
        first = await eventually(in_state(svc, first_id, "manifested"))
        _delete_in_zoho(zoho_sim, first_id)
        second_id = confirmed_order(zoho_sim, number="SO-77")
        await deliver(client, zoho_sim, second_id)
        second = await eventually(in_state(svc, second_id, "manifested"), timeout=30)
    _assert_distinct_bookings(first, second, shiprocket_sim)
    assert second.channel_order_id.startswith("SO-77-")
    assert zoho_sim.custom_field(second_id, "cf_awb_number") == second.awb


async def test_same_number_arriving_together_gets_two_bookings(svc, shiprocket_sim, zoho_sim):
    """Both orders in flight at once: whichever the worker takes first, neither adopts the other's."""
    first_id = confirmed_order(zoho_sim, number="SO-78")
    first_body = zoho_sim.webhook_body(first_id)
    _delete_in_zoho(zoho_sim, first_id)
    second_id = confirmed_order(zoho_sim, number="SO-78")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await asyncio.gather(deliver(client, zoho_sim, first_id, body=first_body),
                             deliver(client, zoho_sim, second_id))
        second = await eventually(in_state(svc, second_id, "manifested"), timeout=30)
        # The first order was deleted in Zoho: its booking stands, the write-back is refused and alerted.
        first = await eventually(in_state(svc, first_id, "writeback_failed"), timeout=30)
    _assert_distinct_bookings(first, second, shiprocket_sim)


async def test_awb_already_held_by_another_order_is_not_adopted(svc, shiprocket_sim, zoho_sim):
    """Our record of the first order was lost (its shipment was made under another number), but the
    AWB Shiprocket hands back is one of ours: the unique AWB must never turn into a silent loop."""
    first_id = confirmed_order(zoho_sim, number="SO-79")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, first_id)
        await eventually(in_state(svc, first_id, "manifested"))
        async with svc.sessionmaker.begin() as s:  # the first order's row no longer names SO-79
            first = await s.scalar(Shipment.__table__.select().where(Shipment.salesorder_id == first_id))
            await s.execute(Shipment.__table__.update().where(Shipment.salesorder_id == first_id)
                            .values(channel_order_id="SO-79-OLD", salesorder_number="SO-79-OLD"))
        _delete_in_zoho(zoho_sim, first_id)
        second_id = confirmed_order(zoho_sim, number="SO-79")
        await deliver(client, zoho_sim, second_id)
        second = await eventually(in_state(svc, second_id, "manifested"), timeout=30)
    first = await shipment(svc, first_id)
    assert second.awb != first.awb and second.sr_order_id != first.sr_order_id
    assert second.channel_order_id == "SO-79-R1" and len(shiprocket_sim.orders) == 2
