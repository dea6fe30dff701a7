"""Customer-initiated returns: the ops endpoint and the CLI book a Shiprocket return order for a
delivered order; the return parcel is tracked by the same pipeline and restocks on delivery back."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from app.tracking.models import CustomerReturn
from tests.harness import OPS_TOKEN, eventually
from tests.spine_helpers import alerts, shipment
from tests.tracking.helpers import FORWARD, bodies, drive, inbox_idle, post, settled, shipped, stack, stock

OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}
ROOT = Path(__file__).resolve().parents[2]


async def delivered_order(svc, client, shiprocket_sim, zoho_sim, **kw):
    so_id, sh = await shipped(svc, client, zoho_sim, **kw)
    await drive(client, shiprocket_sim, sh.awb, FORWARD)
    return so_id, await settled(svc, so_id, "delivered")


async def return_row(svc, awb: str) -> CustomerReturn | None:
    async with svc.sessionmaker() as s:
        return await s.scalar(select(CustomerReturn).where(CustomerReturn.awb == awb))


async def test_customer_return_restocks_through_the_sales_return_path(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await delivered_order(svc, client, shiprocket_sim, zoho_sim, terms="Prepaid", qty=2, paid=True)
        after_delivery = stock(zoho_sim, sh)
        line_id = sh.order["lines"][0]["line_item_id"]
        answer = await client.post("/ops/returns", headers=OPS, json={
            "salesorder_id": so_id, "lines": [{"line_item_id": line_id, "quantity": 1}], "reason": "wrong size"})
        assert answer.status_code == 201, answer.text
        view = answer.json()
        assert view["state"] == "awb_assigned" and view["awb"] and view["channel_order_id"].endswith("-RET1")
        for body in bodies(shiprocket_sim, view["awb"], [3, 42, 18, 7]):  # back to our warehouse
            assert body["is_return"] == 1
            await post(client, body)

        async def back() -> CustomerReturn | None:
            ret = await return_row(svc, view["awb"])
            ok = ret is not None and ret.tracking_status == "delivered" and ret.tracking_settled
            return ret if ok and await inbox_idle(svc) else None

        ret = await eventually(back)

    sr_order = shiprocket_sim.order_by_channel_id(view["channel_order_id"])
    payload = sr_order["payload"]
    assert sr_order["is_return"] == 1 and payload["payment_method"] == "Prepaid"
    assert payload["pickup_pincode"] == "560001" and payload["shipping_pincode"] == "400001"  # customer -> us
    assert [i["units"] for i in payload["order_items"]] == [1]
    # the warehouse named by id and email, as Shiprocket refuses returns without them
    assert payload["pickup_location_id"] == "1000" and payload["shipping_email"] == shiprocket_sim.email
    assert payload["sub_total"] == payload["order_items"][0]["selling_price"] == 499.0
    assert stock(zoho_sim, sh) == after_delivery + 1  # the one unit came back
    [salesreturn] = zoho_sim.salesreturns.values()
    assert salesreturn["receive_status"] == "received" and salesreturn["line_items"][0]["quantity"] == 1
    assert f"Return {view['awb']}" in salesreturn["reason"]
    [note] = zoho_sim.creditnotes.values()
    assert note["total"] == Decimal("499.00") and note["reference_number"] == f"Return {view['awb']}"
    [refund] = await alerts(svc, "refund_due")  # the invoice was paid: the credit stays open for a refund
    assert "499.00" in refund.message
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Returned"
    assert ret.delivered_at is not None and ret.tracking_final
    assert (await shipment(svc, so_id)).tracking_status == "delivered"  # the forward parcel is untouched


async def test_return_requests_are_checked_and_authenticated(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, qty=2)
        line_id = sh.order["lines"][0]["line_item_id"]
        body = {"salesorder_id": so_id, "lines": [{"line_item_id": line_id, "quantity": 1}]}
        no_token = await client.post("/ops/returns", json=body)
        not_delivered = await client.post("/ops/returns", headers=OPS, json=body)
        await drive(client, shiprocket_sim, sh.awb, FORWARD)
        await settled(svc, so_id, "delivered")
        too_many = await client.post("/ops/returns", headers=OPS, json={
            "salesorder_id": so_id, "lines": [{"line_item_id": line_id, "quantity": 3}]})
        unknown = await client.post("/ops/returns", headers=OPS, json={"salesorder_id": "404"})
        first = await client.post("/ops/returns", headers=OPS, json=body)
        rest = await client.post("/ops/returns", headers=OPS, json={"salesorder_id": so_id})  # what is left
        nothing_left = await client.post("/ops/returns", headers=OPS, json={"salesorder_id": so_id})
        fetched = await client.get(f"/ops/returns/{first.json()['return_id']}", headers=OPS)
    assert no_token.status_code == 401
    assert not_delivered.status_code == 409 and "only a delivered order" in not_delivered.json()["detail"]
    assert too_many.status_code == 422 and unknown.status_code == 404
    assert first.status_code == 201 and rest.status_code == 201
    assert [line["quantity"] for line in rest.json()["lines"]] == ["1"]
    assert rest.json()["channel_order_id"].endswith("-RET2")
    assert nothing_left.status_code == 409 and "already being returned" in nothing_left.json()["detail"]
    assert fetched.json()["awb"] == first.json()["awb"]
    assert sum(1 for _, path in shiprocket_sim.calls if path == "/orders/create/return") == 2


async def test_create_return_from_the_cli(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await delivered_order(svc, client, shiprocket_sim, zoho_sim, qty=2)
    line_id = sh.order["lines"][0]["line_item_id"]
    proc = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app.cli", "create-return", so_id, "--line", f"{line_id}=2",
                         "--reason", "damaged"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    view = json.loads(proc.stdout)
    assert view["state"] == "awb_assigned" and view["reason"] == "damaged"
    ret = await return_row(svc, view["awb"])
    assert ret is not None and ret.lines[0]["quantity"] == "2"
    assert shiprocket_sim.order_by_channel_id(view["channel_order_id"])["is_return"] == 1


async def test_failed_return_keeps_its_lines_and_resumes_on_retry(svc, shiprocket_sim, zoho_sim):
    """Shiprocket refuses the return booking: the return is kept as failed with the reason and an alert,
    its lines cannot be booked a second time, and a retry completes it."""
    async with stack(svc) as client:
        so_id, sh = await delivered_order(svc, client, shiprocket_sim, zoho_sim, terms="Prepaid", qty=1)
        line_id = sh.order["lines"][0]["line_item_id"]
        body = {"salesorder_id": so_id, "lines": [{"line_item_id": line_id, "quantity": 1}], "reason": "damaged"}
        shiprocket_sim.faults.inject("/orders/create/return", status=422, body={
            "message": "Oops! Invalid Data.", "errors": {"pickup_phone": ["The pickup phone is invalid."]},
            "status_code": 422})
        first = await client.post("/ops/returns", headers=OPS, json=body)
        assert first.status_code == 201 and first.json()["state"] == "failed"
        assert "pickup phone" in first.json()["last_error"]
        again = await client.post("/ops/returns", headers=OPS, json=body)
        assert again.status_code == 422 and "at most 0" in again.json()["detail"]
        retried = await client.post(f"/ops/returns/{first.json()['return_id']}/retry", headers=OPS)
    assert retried.status_code == 200 and retried.json()["state"] == "awb_assigned" and retried.json()["awb"]
    assert len(await alerts(svc, "return_failed")) == 1
    assert sum(1 for m, p in shiprocket_sim.calls if p == "/orders/create/return") == 2
