"""The Zoho simulator's own tests, over real HTTP (uvicorn in a thread + httpx).

Other suites trust the simulator to behave like Zoho; these tests pin the behaviours they rely on:
OAuth quirks (errors at HTTP 200, the 10-per-10-minutes throttle, expiry), the org check, custom
fields by api_name, stock moving only on shipment/receive, balances that refuse over-application,
the signed webhook, and injected faults.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.integrations.zoho.client import salesorder_put_body
from sandbox.server import ThreadedServer
from sandbox.zoho import ZohoSim
from sandbox.zoho_routes import create_app

INV, BOOKS = "/inventory/v1", "/books/v3"


@pytest.fixture(scope="module")
def sim() -> ZohoSim:
    return ZohoSim()


@pytest.fixture(scope="module")
def server(sim: ZohoSim) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(create_app(sim)).start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def fresh(sim: ZohoSim) -> None:
    sim.reset()


class Client:
    """A minimal, correct Zoho client: form-encoded token grant, Zoho-oauthtoken header, org param."""

    def __init__(self, http: httpx.AsyncClient, sim: ZohoSim) -> None:
        self.http, self.sim, self._token = http, sim, ""

    async def grant(self, **overrides: str) -> httpx.Response:
        data = {"grant_type": "refresh_token", "client_id": self.sim.client_id,
                "client_secret": self.sim.client_secret, "refresh_token": self.sim.refresh_token, **overrides}
        return await self.http.post("/oauth/v2/token", data=data)

    async def token(self) -> str:
        if not self._token:
            self._token = (await self.grant()).json()["access_token"]
        return self._token

    async def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                   json: Any = None, org: str | None = "default", token: str | None = None,
                   **kwargs: Any) -> httpx.Response:
        query = dict(params or {})
        if org is not None:
            query["organization_id"] = self.sim.organization_id if org == "default" else org
        headers = {"Authorization": f"Zoho-oauthtoken {token if token is not None else await self.token()}"}
        return await self.http.request(method, path, params=query, json=json, headers=headers, **kwargs)


@pytest.fixture
async def zoho(server: ThreadedServer, sim: ZohoSim) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        yield Client(http, sim)


def kurta(sim: ZohoSim) -> str:
    return sim.item_by_sku("KURTA-IND-M")["item_id"]


# ---------------------------------------------------------------------------------------------- OAuth
async def test_token_grant_then_api_call(zoho: Client, sim: ZohoSim, server: ThreadedServer) -> None:
    grant = await zoho.grant()
    body = grant.json()
    assert grant.status_code == 200
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    assert body["api_domain"] == server.url and body["access_token"].startswith("1000.")
    # the query-string form of the grant works too
    by_query = await zoho.http.post("/oauth/v2/token", params={
        "grant_type": "refresh_token", "client_id": sim.client_id, "client_secret": sim.client_secret,
        "refresh_token": sim.refresh_token})
    assert by_query.json()["access_token"] != body["access_token"]
    items = await zoho.call("GET", f"{INV}/items", token=body["access_token"])
    assert items.status_code == 200 and items.json()["code"] == 0
    assert {i["sku"] for i in items.json()["items"]} >= {"KURTA-IND-M", "SERUM-VITC-30"}
    assert sim.token_requests == 2 and sim.calls == [("GET", f"{INV}/items")]


async def test_oauth_errors_arrive_with_http_200(zoho: Client, sim: ZohoSim) -> None:
    bad_client = await zoho.grant(client_secret="wrong")
    bad_refresh = await zoho.grant(refresh_token="revoked")
    assert (bad_client.status_code, bad_client.json()) == (200, {"error": "invalid_client"})
    assert (bad_refresh.status_code, bad_refresh.json()) == (200, {"error": "invalid_code"})
    assert sim.token_requests == 2


async def test_ten_token_requests_per_ten_minutes(zoho: Client, sim: ZohoSim) -> None:
    for _ in range(10):
        assert "access_token" in (await zoho.grant()).json()
    denied = await zoho.grant()
    assert denied.status_code == 400
    assert denied.json()["error"] == "Access Denied"
    assert "too many requests" in denied.json()["error_description"]
    assert sim.token_requests == 11
    sim.advance_time(600)
    assert "access_token" in (await zoho.grant()).json()


async def test_expired_and_invalid_tokens_answer_401(zoho: Client, sim: ZohoSim) -> None:
    token = await zoho.token()
    assert (await zoho.call("GET", f"{INV}/items")).status_code == 200
    sim.expire_tokens()
    expired = await zoho.call("GET", f"{INV}/items")
    assert expired.status_code == 401 and expired.json()["code"] == 57
    fresh = (await zoho.grant()).json()["access_token"]
    assert (await zoho.call("GET", f"{INV}/items", token=fresh)).status_code == 200
    sim.advance_time(3600)  # access tokens live one hour
    assert (await zoho.call("GET", f"{INV}/items", token=fresh)).status_code == 401
    unknown = await zoho.call("GET", f"{INV}/items", token="1000.nope.nope")
    assert unknown.status_code == 401 and unknown.json()["code"] == 14
    bearer = await zoho.http.get(f"{INV}/items", params={"organization_id": sim.organization_id},
                                 headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 401


async def test_organization_id_is_required(zoho: Client, sim: ZohoSim) -> None:
    missing = await zoho.call("GET", f"{INV}/items", org=None)
    wrong = await zoho.call("GET", f"{BOOKS}/invoices", org="999")
    assert missing.status_code == 400 and missing.json()["code"] == 6041
    assert wrong.json() == {"code": 6041, "message": "This user is not associated with the "
                                                     "CompanyID/CompanyName:999."}
    orgs = await zoho.call("GET", f"{BOOKS}/organizations", org=None)
    assert orgs.json()["organizations"][0]["organization_id"] == sim.organization_id


# ---------------------------------------------------------------------------------------------- sales orders
async def test_salesorder_create_get_and_put_custom_field_keeps_lines(zoho: Client, sim: ZohoSim) -> None:
    seeded = sim.create_salesorder(lines=[(kurta(sim), 2)])
    created = await zoho.call("POST", f"{INV}/salesorders", json={
        "customer_id": seeded["customer_id"], "reference_number": "WEB-1042",
        "line_items": [{"item_id": kurta(sim), "quantity": 3, "rate": 1000, "tax_percentage": 5}],
        "custom_fields": [{"api_name": "cf_payment_method", "value": "COD"}]})
    assert created.status_code == 201 and created.json()["code"] == 0
    so = created.json()["salesorder"]
    assert len(so["salesorder_id"]) == 19 and so["salesorder_number"] == "SO-00002"
    assert (so["sub_total"], so["tax_total"], so["total"]) == (3000, 150, 3150)
    assert so["custom_field_hash"]["cf_payment_method"] == "COD" and so["status"] == "draft"
    so_id, lines_before = so["salesorder_id"], so["line_items"]

    sim.advance_time(5)
    partial = await zoho.call("PUT", f"{INV}/salesorders/{so_id}",
                              json={"custom_fields": [{"api_name": "cf_awb_number", "value": "SR123456789"}]})
    assert partial.status_code == 400 and partial.json()["code"] == 4  # the spec's required fields
    assert sim.custom_field(so_id, "cf_awb_number") is None
    required = salesorder_put_body(so)
    put = await zoho.call("PUT", f"{INV}/salesorders/{so_id}", json={
        **required, "custom_fields": [{"api_name": "cf_awb_number", "value": "SR123456789"}]})
    assert put.status_code == 200 and put.json()["message"] == "Sales Order has been updated."
    got = (await zoho.call("GET", f"{INV}/salesorders/{so_id}")).json()["salesorder"]
    assert got["line_items"] == lines_before and got["total"] == 3150
    assert got["last_modified_time"] > so["last_modified_time"]
    assert {cf["api_name"]: cf["value"] for cf in got["custom_fields"]} == {
        "cf_payment_method": "COD", "cf_awb_number": "SR123456789"}
    assert sim.custom_field(so_id, "cf_awb_number") == "SR123456789"

    courier_id = sim.so_custom_fields["cf_courier_partner"]["customfield_id"]
    await zoho.call("PUT", f"{INV}/salesorders/{so_id}",
                    json={**required, "custom_fields": [{"customfield_id": courier_id, "value": "Delhivery"}]})
    assert sim.custom_field(so_id, "cf_courier_partner") == "Delhivery"
    bad = await zoho.call("PUT", f"{INV}/salesorders/{so_id}", json={
        **required, "reference_number": "NOT-SAVED", "custom_fields": [{"api_name": "cf_nope", "value": "x"}]})
    assert bad.status_code == 400 and bad.json()["code"] == 4
    assert sim.salesorder(so_id)["reference_number"] == "WEB-1042"  # a rejected PUT changes nothing

    # legacy form body (JSONString=...) is accepted as well
    form = await zoho.call("PUT", f"{INV}/salesorders/{so_id}",
                           data={"JSONString": json.dumps({**required, "reference_number": "WEB-1042-B"})})
    assert form.json()["salesorder"]["reference_number"] == "WEB-1042-B"
    missing = await zoho.call("GET", f"{INV}/salesorders/4815000000999999999")
    assert missing.status_code == 404 and missing.json() == {"code": 1002,
                                                             "message": "Sales Order does not exist."}


async def test_confirm_and_list_filters(zoho: Client, sim: ZohoSim) -> None:
    draft = sim.create_salesorder(customer_name="Arjun Mehta", email="arjun@example.com")
    other = sim.create_salesorder()
    confirmed = await zoho.call("POST", f"{INV}/salesorders/{other['salesorder_id']}/status/confirmed")
    assert confirmed.json() == {"code": 0, "message": "Sales order status has been changed to 'Confirmed'."}
    assert sim.salesorder(other["salesorder_id"])["status"] == "confirmed"

    listed = (await zoho.call("GET", f"{INV}/salesorders", params={"filter_by": "Status.Confirmed"})).json()
    assert [s["salesorder_id"] for s in listed["salesorders"]] == [other["salesorder_id"]]
    found = (await zoho.call("GET", f"{INV}/salesorders", params={"search_text": "arjun"})).json()
    assert [s["salesorder_id"] for s in found["salesorders"]] == [draft["salesorder_id"]]
    paged = (await zoho.call("GET", f"{INV}/salesorders", params={"per_page": 1, "page": 1})).json()
    assert len(paged["salesorders"]) == 1 and paged["page_context"]["has_more_page"] is True
    assert "total_count" not in paged["page_context"]


# ---------------------------------------------------------------------------------------------- webhook
@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/hooks/zoho")
    async def hook(request: Request) -> JSONResponse:
        seen.append({"body": await request.body(), "headers": dict(request.headers)})
        return JSONResponse({"ok": True})

    srv = ThreadedServer(app).start()
    yield f"{srv.url}/hooks/zoho", seen
    srv.stop()


async def test_webhook_json_and_form_are_signed_over_raw_body(
        sim: ZohoSim, receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = receiver
    seen.clear()
    so = sim.create_salesorder(customer_name="Kavya Iyer", custom_fields={"cf_payment_method": "COD"})
    secret = "whsecret0123456789"

    resp = await sim.send_salesorder_webhook(url, secret, so["salesorder_id"])
    assert resp.status_code == 200
    raw, headers = seen[-1]["body"], seen[-1]["headers"]
    assert headers["content-type"].startswith("application/json")
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["x-zoho-webhook-signature"] == expected == ZohoSim.sign(raw, secret)
    assert raw == sim.webhook_body(so["salesorder_id"])
    assert json.loads(raw)["salesorder"] == sim.salesorder(so["salesorder_id"])

    await sim.send_salesorder_webhook(url, secret, so["salesorder_id"], form=True)
    raw, headers = seen[-1]["body"], seen[-1]["headers"]
    assert headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert headers["x-zoho-webhook-signature"] == hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    payload = json.loads(parse_qs(raw.decode())["JSONString"][0])
    assert payload["salesorder"]["custom_field_hash"]["cf_payment_method"] == "COD"

    await sim.send_salesorder_webhook(url, secret, so["salesorder_id"], signature="forged")
    assert seen[-1]["headers"]["x-zoho-webhook-signature"] == "forged"


# ---------------------------------------------------------------------------------------------- fulfilment
async def test_package_shipment_and_delivery_update_so_and_stock(zoho: Client, sim: ZohoSim) -> None:
    item_id = kurta(sim)
    so = sim.create_salesorder(lines=[(item_id, 2)])
    so_id, line_id = so["salesorder_id"], so["line_items"][0]["line_item_id"]
    package_body = {"date": so["date"], "line_items": [{"so_line_item_id": line_id, "quantity": 2}]}
    draft_pkg = await zoho.call("POST", f"{INV}/packages", params={"salesorder_id": so_id}, json=package_body)
    assert draft_pkg.status_code == 400 and draft_pkg.json()["code"] == 36014
    sim.confirm_salesorder(so_id)

    pkg = await zoho.call("POST", f"{INV}/packages", params={"salesorder_id": so_id}, json=package_body)
    assert pkg.status_code == 201
    package_id = pkg.json()["package"]["package_id"]
    assert sim.stock(item_id) == Decimal(100)  # packing does not move stock
    got_pkg = (await zoho.call("GET", f"{INV}/packages/{package_id}")).json()["package"]
    assert got_pkg["status"] == "not_shipped"

    shipment_body = {"shipment_number": "SH-00001", "date": so["date"], "delivery_method": "Delhivery"}
    no_awb = await zoho.call("POST", f"{INV}/shipmentorders", json=shipment_body,
                             params={"package_ids": package_id, "salesorder_id": so_id})
    assert no_awb.status_code == 400 and "tracking_number" in no_awb.json()["message"]
    shipped = await zoho.call("POST", f"{INV}/shipmentorders",
                              json={**shipment_body, "tracking_number": "AWB77"},
                              params={"package_ids": package_id, "salesorder_id": so_id})
    assert shipped.status_code == 201
    shipment_id = shipped.json()["shipment_order"]["shipment_id"]
    assert sim.stock(item_id) == Decimal(98)
    view = sim.salesorder(so_id)
    assert view["shipped_status"] == "shipped"
    assert view["packages"][0]["status"] == "shipped" and view["packages"][0]["tracking_number"] == "AWB77"

    delivered = await zoho.call("POST", f"{INV}/shipmentorders/{shipment_id}/status/delivered")
    assert delivered.json()["message"] == "The Shipment Order has been marked as Delivered."
    view = sim.salesorder(so_id)
    assert view["shipped_status"] == "fulfilled" and view["packages"][0]["status"] == "delivered"
    assert sim.stock(item_id) == Decimal(98)  # delivery does not move stock either


async def test_sales_return_and_receive_restock_the_given_location(zoho: Client, sim: ZohoSim) -> None:
    item_id = kurta(sim)
    mumbai = next(loc for loc in sim.locations if loc != sim.primary_location_id)
    so = sim.create_salesorder(lines=[(item_id, 2)], status="confirmed")
    sim.ship_salesorder(so["salesorder_id"], tracking_number="AWB-RTO-1")
    assert (sim.stock(item_id), sim.stock(item_id, mumbai)) == (Decimal(98), Decimal(0))
    line_id = so["line_items"][0]["line_item_id"]

    too_many = await zoho.call("POST", f"{INV}/salesreturns", params={"salesorder_id": so["salesorder_id"]},
                               json={"line_items": [{"salesorder_item_id": line_id, "quantity": 3}]})
    assert too_many.status_code == 400 and too_many.json()["code"] == 36015
    created = await zoho.call("POST", f"{INV}/salesreturns", params={"salesorder_id": so["salesorder_id"]},
                              json={"reason": "RTO AWB-RTO-1", "location_id": mumbai,
                                    "line_items": [{"salesorder_item_id": line_id, "item_id": item_id,
                                                    "quantity": 2}]})
    assert created.status_code == 201
    sr = created.json()["salesreturn"]
    assert sim.stock(item_id) == Decimal(98)  # a return alone does not restock

    sr_line_id = sr["line_items"][0]["line_item_id"]
    receive = await zoho.call("POST", f"{INV}/salesreturnreceives",
                              params={"salesreturn_id": sr["salesreturn_id"]},
                              json={"date": so["date"],
                                    "line_items": [{"line_item_id": sr_line_id, "quantity": 2}]})
    assert receive.status_code == 201
    assert receive.json()["message"] == "Sales Return Receive Created Successfully"
    assert (sim.stock(item_id), sim.stock(item_id, mumbai)) == (Decimal(100), Decimal(2))
    got = (await zoho.call("GET", f"{INV}/salesreturns/{sr['salesreturn_id']}")).json()["salesreturn"]
    assert got["receive_status"] == "received" and len(got["salesreturnreceives"]) == 1
    again = await zoho.call("POST", f"{INV}/salesreturnreceives",
                            params={"salesreturn_id": sr["salesreturn_id"]},
                            json={"line_items": [{"line_item_id": sr_line_id, "quantity": 1}]})
    assert again.status_code == 400 and sim.stock(item_id) == Decimal(100)


async def test_non_returnable_item_is_refused(zoho: Client, sim: ZohoSim) -> None:
    serum = sim.item_by_sku("SERUM-VITC-30")
    so = sim.create_salesorder(lines=[(serum["item_id"], 1)], status="confirmed")
    sim.ship_salesorder(so["salesorder_id"], tracking_number="AWB-S1", delivered=True)
    refused = await zoho.call("POST", f"{INV}/salesreturns", params={"salesorder_id": so["salesorder_id"]},
                              json={"line_items": [{"salesorder_item_id": so["line_items"][0]["line_item_id"],
                                                    "quantity": 1}]})
    assert refused.status_code == 400
    assert refused.json()["code"] == 36016 and "non-returnable" in refused.json()["message"]
    assert sim.salesreturns == {}


async def test_quantity_adjustment_changes_stock(zoho: Client, sim: ZohoSim) -> None:
    item_id = kurta(sim)
    resp = await zoho.call("POST", f"{INV}/inventoryadjustments", json={
        "date": "2026-11-23", "reason": "RTO AWB-9 (no sales return)", "adjustment_type": "quantity",
        "reference_number": "AWB-9", "line_items": [{"item_id": item_id, "quantity_adjusted": -5}]})
    assert resp.status_code == 201
    assert resp.json()["inventory_adjustment"]["line_items"][0]["quantity_adjusted"] == -5
    item = (await zoho.call("GET", f"{INV}/items/{item_id}")).json()["item"]
    assert item["stock_on_hand"] == 95 and item["package_details"]["weight_unit"] == "kg"
    too_far = await zoho.call("POST", f"{INV}/inventoryadjustments", json={
        "reason": "x", "adjustment_type": "quantity",
        "line_items": [{"item_id": item_id, "quantity_adjusted": -96}]})
    assert too_far.status_code == 400 and sim.stock(item_id) == Decimal(95)


# ---------------------------------------------------------------------------------------------- Books
async def test_payment_reduces_invoice_balance_and_is_searchable(zoho: Client, sim: ZohoSim) -> None:
    so = sim.create_salesorder(lines=[(kurta(sim), 2)], status="confirmed")
    invoice = sim.invoice_salesorder(so["salesorder_id"])
    inv_id = invoice["invoice_id"]
    assert invoice["balance"] == invoice["total"] == 2598
    assert sim.salesorder(so["salesorder_id"])["invoices"][0]["invoice_id"] == inv_id

    body = {"customer_id": so["customer_id"], "payment_mode": "banktransfer", "amount": 1000,
            "date": so["date"], "reference_number": "SR-REMIT-5521", "bank_charges": 12.5,
            "account_id": sim.bank_account_id,
            "invoices": [{"invoice_id": inv_id, "amount_applied": 1000}]}
    paid = await zoho.call("POST", f"{BOOKS}/customerpayments", json=body)
    assert paid.status_code == 201 and paid.json()["message"] == "The payment has been created."
    assert paid.json()["payment"]["invoices"][0]["balance_amount"] == 1598
    got = (await zoho.call("GET", f"{BOOKS}/invoices/{inv_id}")).json()["invoice"]
    assert (got["balance"], got["status"]) == (1598, "partially_paid")
    shared = (await zoho.call("GET", f"{INV}/invoices/{inv_id}")).json()["invoice"]
    assert shared["balance"] == 1598
    assert sim.salesorder(so["salesorder_id"])["paid_status"] == "partially_paid"

    found = (await zoho.call("GET", f"{BOOKS}/customerpayments",
                             params={"reference_number": "SR-REMIT-5521"})).json()
    assert [p["payment_id"] for p in found["customer_payments"]] == [paid.json()["payment"]["payment_id"]]
    assert found["page_context"]["page"] == 1 and found["page_context"]["has_more_page"] is False
    none = (await zoho.call("GET", f"{BOOKS}/customerpayments",
                            params={"reference_number": "SR-OTHER"})).json()
    assert none["customer_payments"] == []

    over = await zoho.call("POST", f"{BOOKS}/customerpayments", json={
        **body, "amount": 2000, "reference_number": "SR-REMIT-5522",
        "invoices": [{"invoice_id": inv_id, "amount_applied": 1598.01}]})
    assert over.status_code == 400 and over.json()["code"] == 24016
    assert sim.invoice(inv_id)["balance"] == 1598 and len(sim.find_payments()) == 1

    rest = await zoho.call("POST", f"{BOOKS}/customerpayments", json={
        **body, "amount": 1598, "invoices": [{"invoice_id": inv_id, "amount_applied": 1598}]})
    assert rest.status_code == 201 and sim.invoice(inv_id)["status"] == "paid"
    assert sim.salesorder(so["salesorder_id"])["paid_status"] == "paid"


async def test_credit_note_applied_reduces_balance(zoho: Client, sim: ZohoSim) -> None:
    so = sim.create_salesorder(lines=[(kurta(sim), 1)], status="confirmed")
    inv = sim.invoice_salesorder(so["salesorder_id"])
    created = await zoho.call("POST", f"{BOOKS}/creditnotes", params={"invoice_id": inv["invoice_id"]}, json={
        "customer_id": so["customer_id"], "date": so["date"], "reference_number": "RTO-AWB-1",
        "line_items": [{"item_id": kurta(sim), "quantity": 1, "rate": 300}]})
    assert created.status_code == 201
    cn = created.json()["creditnote"]
    assert (cn["total"], cn["balance"], cn["status"]) == (300, 300, "open")
    assert sim.invoice(inv["invoice_id"])["balance"] == 1299  # associating is not applying

    applied = await zoho.call("POST", f"{BOOKS}/creditnotes/{cn['creditnote_id']}/invoices",
                              json={"invoices": [{"invoice_id": inv["invoice_id"], "amount_applied": 300}]})
    assert applied.json()["message"] == "Credits have been applied to the invoice(s)."
    after = (await zoho.call("GET", f"{BOOKS}/invoices/{inv['invoice_id']}")).json()["invoice"]
    assert (after["balance"], after["credits_applied"], after["status"]) == (999, 300, "partially_paid")
    cn_after = (await zoho.call("GET", f"{BOOKS}/creditnotes/{cn['creditnote_id']}")).json()["creditnote"]
    assert (cn_after["balance"], cn_after["status"]) == (0, "closed")
    again = await zoho.call("POST", f"{BOOKS}/creditnotes/{cn['creditnote_id']}/invoices",
                            json={"invoices": [{"invoice_id": inv["invoice_id"], "amount_applied": 1}]})
    assert again.status_code == 400 and sim.invoice(inv["invoice_id"])["balance"] == 999


# ---------------------------------------------------------------------------------------------- faults
async def test_injected_faults_then_recovery(zoho: Client, sim: ZohoSim) -> None:
    so = sim.create_salesorder()
    path = f"{INV}/salesorders/{so['salesorder_id']}"
    sim.faults.rate_limit(f"{INV}/salesorders/*", retry_after=7)
    sim.faults.server_error(f"{INV}/salesorders/*", status=502)
    sim.error_in_200(f"{INV}/salesorders/*", code=1000, message="Internal error")

    limited = await zoho.call("GET", path)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    gateway = await zoho.call("GET", path)
    assert gateway.status_code == 502 and "<center>nginx</center>" in gateway.text
    in_200 = await zoho.call("GET", path)
    assert in_200.status_code == 200 and in_200.json() == {"code": 1000, "message": "Internal error"}
    ok = await zoho.call("GET", path)
    assert ok.json()["code"] == 0 and ok.json()["salesorder"]["salesorder_id"] == so["salesorder_id"]
    assert sim.calls == [("GET", path)] * 4


async def test_payment_lists_are_keyed_as_each_spec_names_them(zoho: Client, sim: ZohoSim) -> None:
    books = (await zoho.call("GET", f"{BOOKS}/customerpayments")).json()
    inventory = (await zoho.call("GET", f"{INV}/customerpayments")).json()
    assert "customer_payments" in books and "customerpayments" not in books
    assert "customerpayments" in inventory


async def test_put_line_items_replace_the_lines(zoho: Client, sim: ZohoSim) -> None:
    """Why the client restates every line: a line left out of line_items is removed."""
    kurta, bottle = sim.item_by_sku("KURTA-IND-M")["item_id"], sim.item_by_sku("BOTTLE-STL-1L")["item_id"]
    so = sim.create_salesorder(lines=[(kurta, 1), (bottle, 2)])
    body = salesorder_put_body(so)
    first_only = {**body, "line_items": body["line_items"][:1]}
    await zoho.call("PUT", f"{INV}/salesorders/{so['salesorder_id']}", json=first_only)
    assert [ln["item_id"] for ln in sim.salesorder(so["salesorder_id"])["line_items"]] == [kurta]
