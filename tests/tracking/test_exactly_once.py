"""Every side effect happens once per parcel even when Zoho's reply is lost after it did the work (the
HTTP layer retries, or the job dies between Zoho's answer and our commit and runs again)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import jobs
from app.integrations.http import RetryableUpstreamError
from app.main import create_app
from app.models import InboxEvent, InboxState
from tests.harness import api_client
from tests.tracking.helpers import RTO, bodies, drive, effects, post, settled, shipped, stack, stock

LOST_REPLY = "<html><body><h1>502 Bad Gateway</h1></body></html>"


async def test_lost_replies_on_return_and_credit_note_are_found_not_repeated(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, qty=2, invoiced=True)
        before = stock(zoho_sim, sh)
        # Zoho creates the record, then its answer is lost; the client's retry meets Zoho's duplicate guard.
        zoho_sim.faults.inject("/inventory/v1/salesreturns", method="POST", status=502, body=LOST_REPLY, after=True)
        zoho_sim.faults.inject("/books/v3/creditnotes", method="POST", status=502, body=LOST_REPLY, after=True)
        await drive(client, shiprocket_sim, sh.awb, RTO)
        await settled(svc, so_id, "rto_delivered")

    assert len(zoho_sim.salesreturns) == 1 and len(zoho_sim.creditnotes) == 1
    assert sum(1 for c in zoho_sim.calls if c == ("POST", "/inventory/v1/salesreturns")) == 2  # sent twice...
    assert stock(zoho_sim, sh) == before  # ...restocked once
    [note] = zoho_sim.creditnotes.values()
    assert note["status"] == "closed" and len(note["invoices"]) == 1  # applied once
    fx = await effects(svc, so_id)
    assert fx["shipment:sales_return"].result["reconciled"] is True
    assert fx["shipment:credit_note"].result["reconciled"] is True
    assert fx["shipment:return_receive"].state == "done"


async def test_job_dying_between_zohos_answer_and_our_commit_resumes_without_a_duplicate(svc, shiprocket_sim,
                                                                                       zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, qty=2)
    before = stock(zoho_sim, sh)
    # Every attempt reaches Zoho, every answer is lost: the job gives up with a retryable error after
    # Zoho has created the package (the later attempts are refused: already packed).
    zoho_sim.faults.inject("/inventory/v1/packages", method="POST", status=502, body=LOST_REPLY, after=True,
                           times=1 + svc.settings.HTTP_MAX_RETRIES)
    async with api_client(create_app(svc.settings, svc)) as client:  # no worker: we run the job by hand
        [body] = bodies(shiprocket_sim, sh.awb, [42])
        event_id = (await post(client, body)).json()["event_id"]
    with pytest.raises(RetryableUpstreamError):
        await jobs.process_inbox_event(svc, event_id)
    assert (await effects(svc, so_id))["shipment:zoho_shipment"].state == "started"
    assert len(zoho_sim.packages) == 1 and zoho_sim.shipments == {}

    assert await jobs.process_inbox_event(svc, event_id) == InboxState.done  # arq's retry
    fx = (await effects(svc, so_id))["shipment:zoho_shipment"]
    assert fx.state == "done" and fx.result["reconciled"] is True
    assert len(zoho_sim.packages) == 1 and len(zoho_sim.shipments) == 1  # the package was found and shipped
    assert stock(zoho_sim, sh) == before - 2
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Picked Up"
    async with svc.sessionmaker() as s:
        assert (await s.scalar(select(InboxEvent.state).where(InboxEvent.id == event_id))) == InboxState.done


async def test_event_for_a_busy_order_is_retried_not_dropped(svc, shiprocket_sim, zoho_sim, monkeypatch):
    from app.locks import advisory_lock, order_lock_name
    from app.tracking import service

    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim)
    monkeypatch.setattr(service, "LOCK_WAIT_SECONDS", 0.2)
    async with api_client(create_app(svc.settings, svc)) as client:
        [body] = bodies(shiprocket_sim, sh.awb, [3])
        event_id = (await post(client, body)).json()["event_id"]
    async with advisory_lock(svc.engine, order_lock_name(so_id)) as held:  # e.g. ops booking a return for this order
        assert held
        with pytest.raises(service.OrderBusy):
            await jobs.process_inbox_event(svc, event_id)
    assert await jobs.process_inbox_event(svc, event_id) == InboxState.done
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Pickup Scheduled"


async def test_adjustment_with_a_lost_reply_is_found_not_sent_again(svc, shiprocket_sim, zoho_sim):
    async with stack(svc) as client:
        so_id, sh = await shipped(svc, client, zoho_sim, sku="SERUM-VITC-30", qty=2)  # not returnable
        before = stock(zoho_sim, sh)
        await drive(client, shiprocket_sim, sh.awb, RTO[:-1], svc)
    zoho_sim.faults.inject("/inventory/v1/inventoryadjustments", method="POST", status=502, body=LOST_REPLY,
                           after=True)
    async with api_client(create_app(svc.settings, svc)) as client:  # no worker: we run the job by hand
        [body] = bodies(shiprocket_sim, sh.awb, [10])
        event_id = (await post(client, body)).json()["event_id"]
    with pytest.raises(RetryableUpstreamError):  # Zoho adjusted, we never heard: no blind resend
        await jobs.process_inbox_event(svc, event_id)
    assert len(zoho_sim.adjustments) == 1
    assert await jobs.process_inbox_event(svc, event_id) == InboxState.done
    assert len(zoho_sim.adjustments) == 1 and stock(zoho_sim, sh) == before
    assert (await effects(svc, so_id))["shipment:restock_adjustment"].result["reconciled"] is True
