"""End to end: a signed Zoho webhook through the API, the inbox, the real arq worker on real Redis and
Postgres, to the Shiprocket and Zoho simulators over HTTP."""

from __future__ import annotations

import json
from decimal import Decimal

from app.main import create_app
from app.models import InboxEvent, InboxState
from tests.harness import api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, count, deliver, in_state, inbox, shipment


async def test_confirmed_order_gets_awb_written_back_to_zoho(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim, terms="Cash on Delivery", qty=2)
    number = zoho_sim.salesorder(so_id)["salesorder_number"]
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        response = await deliver(client, zoho_sim, so_id)
        assert response.status_code == 200
        body = response.json()
        assert body["accepted"] is True and body["duplicate"] is False and body["event_id"]
        sh = await eventually(in_state(svc, so_id, "manifested"))

    assert sh.awb and sh.courier_name and sh.sr_order_id
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    assert zoho_sim.custom_field(so_id, "cf_courier_partner") == sh.courier_name
    assert zoho_sim.custom_field(so_id, "cf_shiprocket_order_id") == sh.sr_order_id
    # The AWB went to Zoho first (with "AWB Assigned"), then the pickup moved it to "Pickup Scheduled".
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Pickup Scheduled"
    assert sh.pickup_requested_at and sh.pickup_scheduled_date and sh.pickup_token_number
    assert sh.label_url and sh.label_url.endswith(".pdf") and sh.manifest_url and sh.manifest_url.endswith(".pdf")
    sr_order = shiprocket_sim.order_by_channel_id(number)
    assert sr_order is not None
    payload = sr_order.get("payload", sr_order)
    assert payload["payment_method"] == "COD"
    assert Decimal(str(payload["sub_total"])) == Decimal(str(zoho_sim.salesorder(so_id)["total"]))
    assert payload["pickup_location"] == "Primary Warehouse"
    assert "COD to tier-1 metro" in (sh.courier_reason or "")
    # the parcel came from the item's package details: 2 x 420 g
    assert sh.weight_kg == Decimal("0.840")
    assert [e.state for e in await inbox(svc)] == [InboxState.done]


async def test_form_encoded_variant_is_accepted(svc, zoho_sim):
    so_id = confirmed_order(zoho_sim, terms="Due on Receipt")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        response = await deliver(client, zoho_sim, so_id, form=True)
        assert response.status_code == 200 and response.json()["accepted"] is True
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert sh.payment_method == "Prepaid"


async def test_bad_or_missing_signature_is_refused_and_nothing_stored(svc, zoho_sim):
    secret = svc.settings.ZOHO_WEBHOOK_SECRET.get_secret_value()
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client:
        wrong = await deliver(client, zoho_sim, so_id, secret="notTheSecret999")
        raw = zoho_sim.webhook_body(so_id)
        missing = await client.post("/webhooks/zoho/salesorders", content=raw,
                                    headers={"Content-Type": "application/json"})
        tampered = await client.post("/webhooks/zoho/salesorders", content=raw + b" ",
                                     headers={"Content-Type": "application/json",
                                              "X-Zoho-Webhook-Signature": zoho_sim.sign(raw, secret)})
    assert (wrong.status_code, missing.status_code, tampered.status_code) == (401, 401, 401)
    assert "Secret" not in wrong.text and svc.settings.ZOHO_WEBHOOK_SECRET.get_secret_value() not in wrong.text
    assert await count(svc, InboxEvent) == 0


async def test_same_webhook_five_times_gives_one_shiprocket_order(svc, shiprocket_sim, zoho_sim):
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        answers = [await deliver(client, zoho_sim, so_id) for _ in range(5)]
        await eventually(in_state(svc, so_id, "manifested"))
        # and a later edit of the already-shipped order (new last_modified_time) ships nothing new
        zoho_sim.advance_time(5)
        edited = await deliver(client, zoho_sim, so_id, body=_edited(zoho_sim.webhook_body(so_id)))
        await eventually(lambda: _all_processed(svc))
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicate"] for a in answers] == [False, True, True, True, True]
    assert len({a.json()["event_id"] for a in answers}) == 1
    assert edited.json()["duplicate"] is False
    assert len(shiprocket_sim.orders) == 1
    assert sum(1 for m, p in shiprocket_sim.calls if p == "/orders/create/adhoc") == 1


def _edited(raw: bytes) -> bytes:
    body = json.loads(raw)
    body["salesorder"]["last_modified_time"] = "2030-01-01T10:00:00+0530"
    body["salesorder"]["status"] = "confirmed"
    return json.dumps(body).encode()


async def _all_processed(svc) -> bool:
    return all(e.state != InboxState.pending for e in await inbox(svc))


async def test_unconfirmed_order_recorded_and_ignored(svc, zoho_sim, shiprocket_sim):
    so_id = confirmed_order(zoho_sim, confirm=False)  # still a draft
    # A draft is work until the job looks (an order back in draft after booking must be cancelled)...
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        response = await deliver(client, zoho_sim, so_id)
        await eventually(lambda: _all_processed(svc))
    assert response.status_code == 200 and response.json()["state"] == "pending"
    [event] = await inbox(svc)  # ...and with no shipment there is nothing to do
    assert event.state == InboxState.ignored and "nothing to cancel" in event.reason
    assert await shipment(svc, so_id) is None and shiprocket_sim.calls == []
    other = json.loads(zoho_sim.webhook_body(so_id))
    other["salesorder"].update(status="closed", order_status="closed", last_modified_time="2030-01-01T10:00:00+0530")
    async with api_client(create_app(svc.settings, svc)) as client:
        closed = await deliver(client, zoho_sim, so_id, body=json.dumps(other).encode())
    assert closed.json()["state"] == "ignored" and "not confirmed" in closed.json()["reason"]


async def test_malformed_authenticated_body_is_kept_for_inspection(svc, zoho_sim):
    raw = b'{"salesorder": {"status": "confirmed"'  # truncated JSON
    async with api_client(create_app(svc.settings, svc)) as client:
        response = await deliver(client, zoho_sim, "-", body=raw)
        again = await deliver(client, zoho_sim, "-", body=b'{"invoice": {"invoice_id": "1"}}')
    assert response.status_code == 200
    assert response.json()["accepted"] is False and "not valid JSON" in response.json()["reason"]
    assert again.status_code == 200 and "no `salesorder`" in again.json()["reason"]
    events = await inbox(svc)
    assert [e.state for e in events] == [InboxState.invalid, InboxState.invalid]
    assert events[0].body == raw  # kept raw, byte for byte


async def test_unserviceable_pincode_goes_to_serviceability_failed(svc, shiprocket_sim, zoho_sim):
    shiprocket_sim.unserviceable_pincodes.add("744101")
    so_id = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        sh = await eventually(in_state(svc, so_id, "serviceability_failed"))
        await eventually(lambda: _zoho_status(zoho_sim, so_id, "Serviceability Failed"))
    assert "744101" in (sh.last_error or "")
    assert len(await alerts(svc, "serviceability_failed")) == 1
    # Created alongside the check (it needs no courier), then cancelled: nothing left to ship.
    [order] = shiprocket_sim.orders.values()
    assert order["status"].upper().startswith("CANCEL") and "cancelled" in (sh.last_error or "")


async def _zoho_status(zoho_sim, so_id, value) -> bool:
    return zoho_sim.custom_field(so_id, "cf_shipment_status") == value


async def test_awb_failure_then_success_after_retry(svc, shiprocket_sim, zoho_sim):
    shiprocket_sim.fail_awb_assignments(1, mode="error_in_200")
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        retrying = await eventually(in_state(svc, so_id, "awb_retry"))
        assert retrying.next_attempt_at is not None and retrying.awb_attempts == 1
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert sh.awb and sh.awb_attempts == 1 and sh.last_error is None
    assert sum(1 for m, p in shiprocket_sim.calls if p == "/courier/assign/awb") == 2
    assert await alerts(svc) == []
    assert len(shiprocket_sim.orders) == 1


async def test_awb_failure_on_every_courier_raises_alert_and_stops(svc, shiprocket_sim, zoho_sim):
    # AWB_MAX_ATTEMPTS (2) with the chosen courier, then 2 with the next (AWB_COURIERS_PER_AGGREGATOR),
    # and no other aggregator configured: AWB Failed.
    shiprocket_sim.fail_awb_assignments(10, mode="http_400")
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        sh = await eventually(in_state(svc, so_id, "awb_failed"))
        await eventually(lambda: _zoho_status(zoho_sim, so_id, "AWB Failed"))
    assert sh.awb is None and sh.awb_attempts == 2
    [hop] = sh.booking_hops  # the first courier; the second is the one that failed last
    assert hop["aggregator"] == "shiprocket" and hop["courier_id"] != sh.courier_id
    [alert] = await alerts(svc, "awb_failed")
    assert zoho_sim.salesorder(so_id)["salesorder_number"] in alert.message and "2 courier(s)" in alert.message
    assert sum(1 for m, p in shiprocket_sim.calls if p == "/courier/assign/awb") == 4
    assert len(shiprocket_sim.orders) == 1  # one order, two couriers tried on it


async def test_awb_failure_moves_to_the_next_courier(svc, shiprocket_sim, zoho_sim):
    shiprocket_sim.fail_awb_assignments(2, mode="http_400")
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        sh = await eventually(in_state(svc, so_id, "manifested"))
    [given_up] = sh.booking_hops
    assert given_up["aggregator"] == "shiprocket" and given_up["courier_id"] != sh.courier_id
    assert "2 attempt(s) failed" in given_up["reason"]
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    assert sum(1 for m, p in shiprocket_sim.calls if p == "/courier/assign/awb") == 3
    assert await alerts(svc) == []


async def test_shiprocket_token_expiring_mid_run_relogs_once(svc, shiprocket_sim, zoho_sim):
    first = confirmed_order(zoho_sim, number="SO-TOK-1")
    second = confirmed_order(zoho_sim, number="SO-TOK-2")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, first)
        await eventually(in_state(svc, first, "manifested"))
        assert shiprocket_sim.login_count == 1
        shiprocket_sim.expire_tokens()
        await deliver(client, zoho_sim, second)
        await eventually(in_state(svc, second, "manifested"))
    assert shiprocket_sim.login_count == 2
    assert len(shiprocket_sim.orders) == 2


async def test_no_upstream_call_in_the_request_path(svc, shiprocket_sim, zoho_sim):
    """The endpoint answers from Postgres alone: with both upstreams slowed to 3 s per call, the answer
    comes back before either simulator has seen a single request."""
    shiprocket_sim.faults.set_latency(3.0)
    zoho_sim.faults.set_latency(3.0)
    so_id = confirmed_order(zoho_sim)
    zoho_calls_before = list(zoho_sim.calls)
    async with api_client(create_app(svc.settings, svc)) as client:
        response = await deliver(client, zoho_sim, so_id)
    assert response.status_code == 200 and response.json()["accepted"] is True
    assert shiprocket_sim.calls == [] and zoho_sim.calls == zoho_calls_before


async def test_payload_missing_fields_reads_the_order_from_zoho(svc, zoho_sim):
    so_id = confirmed_order(zoho_sim)
    thin = json.dumps({"salesorder": {"salesorder_id": so_id, "status": "confirmed",
                                      "salesorder_number": zoho_sim.salesorder(so_id)["salesorder_number"]}}).encode()
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id, body=thin)
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert ("GET", f"/inventory/v1/salesorders/{so_id}") in zoho_sim.calls
    assert sh.order["address"]["pincode"] == "560001"


async def test_wrong_pickup_nickname_fails_the_order_with_shiprockets_words(svc, shiprocket_sim, zoho_sim):
    """The commonest set-up mistake: SHIPROCKET_PICKUP_LOCATION not exactly the panel's nickname."""
    wrong = svc.settings.model_copy(update={"SHIPROCKET_PICKUP_LOCATION": "primary warehouse"})
    from app.services import build_services

    wrong_svc = build_services(wrong, engine=svc.engine)
    so_id = confirmed_order(zoho_sim)
    try:
        async with api_client(create_app(wrong, wrong_svc)) as client, running_worker(wrong_svc):
            await deliver(client, zoho_sim, so_id)
            sh = await eventually(in_state(svc, so_id, "order_failed"))
            await eventually(lambda: _zoho_status(zoho_sim, so_id, "Order Failed"))
    finally:
        await wrong_svc.http.aclose()
    assert "Wrong Pickup location" in (sh.last_error or "")
    [alert] = await alerts(svc, "order_failed")
    assert "Wrong Pickup location" in alert.message
    assert shiprocket_sim.orders == {}


async def test_webhook_url_with_query_parameters_verifies_zohos_way(svc, zoho_sim):
    """A seller who adds a static parameter to the webhook URL: Zoho signs params + body."""
    so_id = confirmed_order(zoho_sim)
    raw = zoho_sim.webhook_body(so_id)
    secret = svc.settings.ZOHO_WEBHOOK_SECRET.get_secret_value()
    signed = zoho_sim.sign(b"sourcezoho-inventory" + raw, secret)
    async with api_client(create_app(svc.settings, svc)) as client:
        ok = await client.post("/webhooks/zoho/salesorders?source=zoho-inventory", content=raw,
                               headers={"Content-Type": "application/json", "X-Zoho-Webhook-Signature": signed})
        forged = await client.post("/webhooks/zoho/salesorders?source=elsewhere", content=raw,
                                   headers={"Content-Type": "application/json", "X-Zoho-Webhook-Signature": signed})
    assert ok.status_code == 200 and ok.json()["accepted"] is True
    assert forged.status_code == 401


async def test_gst_discount_and_shipping_reach_shiprocket_as_the_customer_pays_them(svc, shiprocket_sim, zoho_sim):
    """A 5% + 18% GST order with a 10% order discount and ₹60 shipping: Shiprocket gets GST-inclusive unit
    prices, the shipping and the discount in their own fields, and a sub_total equal to Zoho's total."""
    kurta = zoho_sim.item_by_sku("KURTA-IND-M")["item_id"]
    bottle = zoho_sim.item_by_sku("BOTTLE-STL-1L")["item_id"]
    so = zoho_sim.create_salesorder(
        lines=[{"item_id": kurta, "quantity": 2, "rate": "1299", "tax_percentage": 5},
               {"item_id": bottle, "quantity": 3, "rate": "649", "tax_percentage": 18}],
        payment_terms_label="Cash on Delivery", discount="10%", shipping_charge=60)
    so_id = str(so["salesorder_id"])
    zoho_sim.confirm_salesorder(so_id)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        assert (await deliver(client, zoho_sim, so_id)).status_code == 200
        await eventually(in_state(svc, so_id, "manifested"))
    total = Decimal(str(zoho_sim.salesorder(so_id)["total"]))
    sr_order = shiprocket_sim.order_by_channel_id(so["salesorder_number"])
    payload = sr_order["payload"]
    assert [i["selling_price"] for i in payload["order_items"]] == [1363.95, 765.82]
    assert [i["tax"] for i in payload["order_items"]] == [5.0, 18.0]
    assert payload["shipping_charges"] == 60.0 and payload["total_discount"] > 0
    assert Decimal(str(payload["sub_total"])) == total == sr_order["total"]  # what the courier collects
