"""Finding what an interrupted run created, from list endpoints shaped as Zoho's specs show them: sales
returns and inventory adjustments list only by page, rows carry no `reason`; every page is read."""

from __future__ import annotations

from app.tracking import zoho_writes as zw
from tests.tracking.helpers import RTO, drive, effects, settled, shipped, stack, stock
from tests.tracking.test_exactly_once import LOST_REPLY


def other_order_with_a_return(zoho_sim) -> None:
    """An unrelated sales return (so the list has more than one page at one row a page)."""
    so = zoho_sim.create_salesorder()
    zoho_sim.confirm_salesorder(so["salesorder_id"])
    zoho_sim.ship_salesorder(so["salesorder_id"], tracking_number="OTHER-AWB")
    line = so["line_items"][0]
    with zoho_sim._lock:
        zoho_sim._create_salesreturn(so["salesorder_id"], {"reason": "RTO OTHER-AWB", "line_items": [
            {"item_id": line["item_id"], "salesorder_item_id": line["line_item_id"], "quantity": 1}]})


async def test_lost_sales_return_reply_is_found_by_paging_the_list(svc, shiprocket_sim, zoho_sim, monkeypatch):
    zoho_sim.so_lists_salesreturns = False  # only the documented list to go by
    monkeypatch.setattr(zw, "PAGE_SIZE", 1)
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, qty=2)
        other_order_with_a_return(zoho_sim)
        other_order_with_a_return(zoho_sim)
        before = stock(zoho_sim, sh)
        zoho_sim.faults.inject("/inventory/v1/salesreturns", method="POST", status=502, body=LOST_REPLY, after=True)
        await drive(client, shiprocket_sim, sh.awb, RTO)
        await settled(svc, so_id, "rto_delivered")
    mine = [sr for sr in zoho_sim.salesreturns.values() if sr["salesorder_id"] == so_id]
    assert len(mine) == 1 and stock(zoho_sim, sh) == before + 0  # restocked once (shipped 2, back 2)
    assert (await effects(svc, so_id))["shipment:sales_return"].result["reconciled"] is True
    pages = [c for c in zoho_sim.calls if c == ("GET", "/inventory/v1/salesreturns")]
    assert len(pages) == 3  # one row a page, three returns: every page read


async def test_list_rows_are_shaped_as_the_specs(svc, zoho_sim):
    other_order_with_a_return(zoho_sim)
    body = await svc.zoho.call("GET", "/inventory/v1/salesreturns")
    [row] = body["salesreturns"]
    assert "reason" not in row and "line_items" not in row and row["salesorder_id"]
    so = await svc.zoho.get_salesorder(row["salesorder_id"])
    found = await zw.find_sales_return(svc.zoho, so, "RTO OTHER-AWB")
    assert found is not None and found["salesreturn_id"] == row["salesreturn_id"]
    assert await zw.find_sales_return(svc.zoho, so, "RTO SOMETHING-ELSE") is None
