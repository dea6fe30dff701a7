"""COD remittance end to end: the webhook through the API and the inbox, the real arq worker on real
Redis and Postgres, Zoho Books (simulator) over HTTP; reconciliation read back from the ops endpoints."""

from __future__ import annotations

import json
from decimal import Decimal

from app.main import create_app
from app.models import InboxEvent, InboxState
from app.remittance.models import CodRemittance
from tests.harness import api_client, eventually
from tests.remittance.helpers import (
    OPS,
    TODAY,
    books_posts,
    inbox_settled,
    invoice_of,
    lines,
    payments_for,
    post_remittance,
    remit,
    settled,
    shipped_orders,
    worker,
)
from tests.spine_helpers import alerts, count, inbox


async def test_remittance_of_several_orders_pays_each_invoice_in_full_with_bank_charges(svc, shiprocket_sim,
                                                                                       zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 3)
        body = remit(shiprocket_sim, shipments, ["45.50", "52.00", "61.25"])
        rid = body["remittance_id"]
        zoho_before = len(zoho_sim.calls)
        response = await post_remittance(client, body)
        assert response.status_code == 200 and response.json()["accepted"] is True
        paid = await eventually(settled(svc, 3))
        await eventually(lambda: _written_back(zoho_sim, shipments, rid))
        await eventually(inbox_settled(svc))
        zoho_calls = [c for c in zoho_sim.calls[zoho_before:] if "/oauth/" not in c[1]]
        summary = (await client.get("/ops/remittances", headers=OPS)).json()["remittances"]

    by_awb = {ln.awb: ln for ln in paid}
    for sh, cut in zip(shipments, ("45.50", "52.00", "61.25"), strict=True):
        line = by_awb[sh.awb]
        invoice = invoice_of(zoho_sim, sh.salesorder_id)
        assert line.state == "paid" and line.problem is None and line.awb == sh.awb
        assert line.cod_amount == Decimal(str(invoice["total"])) and invoice["balance"] == 0
        assert invoice["status"] == "paid"
        [payment] = payments_for(zoho_sim, rid, sh.awb)
        assert payment["payment_id"] == line.payment_id
        assert Decimal(str(payment["amount"])) == line.cod_amount  # gross, not net of Shiprocket's charges
        assert Decimal(str(payment["bank_charges"])) == Decimal(cut)
        assert payment["payment_mode"] == "banktransfer" and payment["date"] == TODAY.isoformat()
        assert payment["customer_id"] == zoho_sim.salesorder(sh.salesorder_id)["customer_id"]
        assert [i["invoice_id"] for i in payment["invoices"]] == [invoice["invoice_id"]]
        assert zoho_sim.custom_field(sh.salesorder_id, "cf_cod_remittance_id") == rid
    # Zoho calls: 3 per line (read the sales order, create the payment, write cf_cod_remittance_id). No
    # reference search: no line was posted before, so Books cannot hold a payment of ours for it.
    kinds = sorted({(m, p.split("/")[3]) for m, p in zoho_calls})
    assert kinds == [("GET", "salesorders"), ("POST", "customerpayments"), ("PUT", "salesorders")]
    assert len(zoho_calls) == 3 * 3
    [view] = summary
    assert view["mismatch"] is False and view["difference"] == "0.00" and view["paid"] == 3
    assert view["bank_transfer_amount"] == body["bank_transfer_amount"] and view["sources"] == ["webhook"]
    assert [e.state for e in await inbox(svc) if e.source == "cod_remittance"] == [InboxState.done]
    assert await alerts(svc) == []


async def _written_back(zoho_sim, shipments, rid) -> bool:
    return all(zoho_sim.custom_field(sh.salesorder_id, "cf_cod_remittance_id") == rid for sh in shipments)


async def test_unknown_awb_and_missing_invoice_are_flagged_not_paid_then_retried(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        invoiced = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, prefix="SO-INV")
        [uninvoiced] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, invoice=False, prefix="SO-NOI")
        body = remit(shiprocket_sim, invoiced + [uninvoiced], ["40.00", "40.00"])
        body["orders"].append({"awb": "77777777777777", "order_id": "SO-GHOST", "cod_amount": "750.00",
                               "deducted_charges": "40.00"})
        body["bank_transfer_amount"] = str(Decimal(body["bank_transfer_amount"]) + Decimal("710.00"))
        rid = body["remittance_id"]
        await post_remittance(client, body)
        await eventually(settled(svc, 3))
        exceptions = (await client.get("/ops/remittances/exceptions", headers=OPS)).json()
        by_awb = {ln.awb: ln for ln in await lines(svc)}
        assert by_awb[invoiced[0].awb].state == "paid"
        assert (by_awb[uninvoiced.awb].state, by_awb[uninvoiced.awb].problem) == ("flagged", "no_invoice")
        assert (by_awb["77777777777777"].state, by_awb["77777777777777"].problem) == ("flagged", "unknown_awb")
        assert payments_for(zoho_sim, rid, uninvoiced.awb) == [] and payments_for(zoho_sim, rid, "77777777777777") == []
        assert zoho_sim.custom_field(uninvoiced.salesorder_id, "cf_cod_remittance_id") in (None, "")
        assert len(zoho_sim.find_payments()) == 1
        listed = {(ln["awb"], ln["problem"]) for ln in exceptions["lines"]}
        assert listed == {(uninvoiced.awb, "no_invoice"), ("77777777777777", "unknown_awb")}
        assert exceptions["mismatches"] == []  # the totals add up; the lines are the problem
        [alert] = await eventually(lambda: alerts(svc, "remittance_exceptions"))
        assert "2 line(s)" in alert.message

        # The seller invoices the order in Zoho and asks for a retry: now it is paid, the ghost stays flagged.
        zoho_sim.invoice_salesorder(uninvoiced.salesorder_id)
        retry = await client.post(f"/ops/remittances/{rid}/retry", headers=OPS)
        assert retry.status_code == 200 and retry.json()["reopened"] == 2 and retry.json()["enqueued"] is True
        unknown = await client.post("/ops/remittances/NOSUCH1/retry", headers=OPS)
        assert unknown.status_code == 404 and "NOSUCH1" in unknown.text
        await eventually(lambda: _state(svc, uninvoiced.awb, "paid"))
        await eventually(settled(svc, 3))
    assert invoice_of(zoho_sim, uninvoiced.salesorder_id)["balance"] == 0
    assert {ln.awb: ln.state for ln in await lines(svc)}["77777777777777"] == "flagged"
    assert len(zoho_sim.find_payments()) == 2


async def _state(svc, awb, state) -> bool:
    return any(ln.awb == awb and ln.state == state for ln in await lines(svc))


async def test_total_mismatch_is_flagged_with_the_difference(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 2)
        body = remit(shiprocket_sim, shipments, ["30.00", "30.00"])
        body["bank_transfer_amount"] = str(Decimal(body["bank_transfer_amount"]) - Decimal("100.00"))
        await post_remittance(client, body)
        await eventually(settled(svc, 2))
        await eventually(lambda: alerts(svc, "remittance_mismatch"))
        exceptions = (await client.get("/ops/remittances/exceptions", headers=OPS)).json()
    [mismatch] = exceptions["mismatches"]
    assert mismatch["remittance_id"] == body["remittance_id"] and mismatch["difference"] == "-100.00"
    assert mismatch["expected_transfer"] == str(Decimal(body["bank_transfer_amount"]) + 100)
    assert all(ln.state == "paid" for ln in await lines(svc))  # each line is still right on its own
    [alert] = await alerts(svc, "remittance_mismatch")
    assert "-100.00" in alert.message


async def test_amounts_differing_from_the_invoice_balance_are_listed(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        short, over = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 2)
        body = remit(shiprocket_sim, [short, over])
        body["orders"][0]["cod_amount"] = str(Decimal(body["orders"][0]["cod_amount"]) - 50)
        body["orders"][1]["cod_amount"] = str(Decimal(body["orders"][1]["cod_amount"]) + 50)
        await post_remittance(client, body)
        await eventually(settled(svc, 2))
        exceptions = (await client.get("/ops/remittances/exceptions", headers=OPS)).json()
    by_awb = {ln.awb: ln for ln in await lines(svc)}
    assert (by_awb[short.awb].state, by_awb[short.awb].problem) == ("paid", "amount_differs")
    assert invoice_of(zoho_sim, short.salesorder_id)["balance"] == 50  # paid what came, the rest stays open
    assert (by_awb[over.awb].state, by_awb[over.awb].problem) == ("flagged", "amount_differs")
    assert invoice_of(zoho_sim, over.salesorder_id)["balance"] == invoice_of(zoho_sim, over.salesorder_id)["total"]
    assert {ln["awb"] for ln in exceptions["lines"] if ln["problem"] == "amount_differs"} == {short.awb, over.awb}


async def test_wrong_or_missing_api_key_is_refused_and_nothing_stored(svc):
    body = {"remittance_id": "1", "remittance_date": "2026-05-05", "bank_transfer_amount": "0", "orders": []}
    async with api_client(create_app(svc.settings, svc)) as client:
        wrong = await post_remittance(client, body, token="not-the-token")
        missing = await post_remittance(client, body, token=None)
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert await count(svc, InboxEvent) == 0 and await count(svc, CodRemittance) == 0


async def test_malformed_body_is_kept_and_a_redelivery_is_deduplicated(svc, shiprocket_sim, zoho_sim):
    truncated = b'{"remittance_id": "10816299", "orders": [{"awb": '
    negative = json.dumps({"remittance_id": "10816300", "remittance_date": "2026-05-05",
                           "bank_transfer_amount": "-1", "orders": []}).encode()
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        bad = await post_remittance(client, truncated)
        worse = await post_remittance(client, negative)
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1)
        body = remit(shiprocket_sim, shipments, ["20.00"])
        first = await post_remittance(client, body)
        again = await post_remittance(client, body)
        await eventually(settled(svc, 1))
        await eventually(inbox_settled(svc))
    assert bad.status_code == 200 and bad.json()["accepted"] is False and "not valid JSON" in bad.json()["reason"]
    assert worse.json()["state"] == "invalid" and "non-negative" in worse.json()["reason"]
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert first.json()["event_id"] == again.json()["event_id"]
    events = [e for e in await inbox(svc) if e.source == "cod_remittance"]
    assert [e.state for e in events] == [InboxState.invalid, InboxState.invalid, InboxState.done]
    assert events[0].body == truncated  # kept byte for byte
    assert books_posts(zoho_sim) == 1


async def test_ops_endpoints_need_the_ops_token(svc):
    async with api_client(create_app(svc.settings, svc)) as client:
        answers = [await client.get("/ops/remittances"), await client.get("/ops/remittances/exceptions"),
                   await client.get("/ops/remittances/exceptions", headers={"Authorization": "Bearer wrong"}),
                   await client.post("/ops/remittances/1/retry")]
        unknown = await client.get("/ops/remittances/nope", headers=OPS)
    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert unknown.status_code == 404
