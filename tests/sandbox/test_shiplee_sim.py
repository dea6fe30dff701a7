"""The Shiplee simulator against the seed (/work/shared/reference/seeds/shiplee-api.txt), over raw HTTP
and without our client: it must refuse what the seed says Shiplee refuses, in the seed's order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox.shiplee import ShipleeSim

ORDER: dict[str, Any] = {
    "pincode": "560001", "city": "Bengaluru", "state": "Karnataka", "name": "Rahul Sharma", "mobile": "9876543210",
    "address1": "12 MG Road", "order_id": "ORD-TEST-001", "pickup_type": "fwd", "payment_type": "cod",
    "same_billing_address": True, "products": [{"product_name": "Shoes", "quantity": 1, "product_price": 1299}],
    "parcels": [{"length": 10, "breadth": 10, "height": 10, "physical_weight": 0.5}],
}


class Api:
    def __init__(self, http: httpx.AsyncClient, token: str = "") -> None:
        self.http, self.token = http, token

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.http.post(path, json=body, headers={"Authorization": f"Bearer {self.token}"})

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers={"Authorization": f"Bearer {self.token}"})


@pytest.fixture
async def api(shiplee_sim: ShipleeSim) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=shiplee_sim.base_url, timeout=5) as http:
        login = await http.post("/api/login", json={"mobile": shiplee_sim.mobile, "password": shiplee_sim.password})
        yield Api(http, login.json()["access_token"])


async def create(api: Api, **changes: Any) -> int:
    response = await api.post("/api/create_order", {**ORDER, **changes})
    assert response.status_code == 200, response.text
    return int(response.json()["order_id"])


async def book(api: Api, oid: int, carrier: str = "delhivery_2kg_surface", warehouse: int = 1) -> httpx.Response:
    return await api.post("/api/book_shipment", {"carrier_id": carrier, "order_id": oid, "warehouse_id": warehouse})


async def test_login_shape_and_refusals(shiplee_sim: ShipleeSim) -> None:
    async with httpx.AsyncClient(base_url=shiplee_sim.base_url) as http:
        login = {"mobile": shiplee_sim.mobile, "password": shiplee_sim.password}
        ok = (await http.post("/api/login", json=login)).json()
        assert ok["token_type"] == "Bearer" and ok["expires_in"] == 10800 and ok["token"] == ok["access_token"]
        bad = await http.post("/api/login", json={"mobile": shiplee_sim.mobile, "password": "nope"})
        assert bad.status_code == 401
        shiplee_sim.account_status = "pending"
        blocked = await http.post("/api/login", json={"mobile": shiplee_sim.mobile, "password": shiplee_sim.password})
        assert blocked.status_code == 403
        assert (await http.get("/api/warehouse")).status_code == 401  # no token


async def test_expired_tokens_are_refused(api: Api, shiplee_sim: ShipleeSim) -> None:
    assert (await api.get("/api/warehouse")).status_code == 200
    shiplee_sim.expire_tokens()
    assert (await api.get("/api/warehouse")).status_code == 401


async def test_agreement_gate(api: Api, shiplee_sim: ShipleeSim) -> None:
    shiplee_sim.publish_agreement(3)
    for path in ("/api/warehouse", "/api/home", "/api/cod_remittance"):
        refused = await api.get(path)
        assert refused.status_code == 403 and refused.json() == {
            "status": "error", "error_code": "AGREEMENT_REQUIRED",
            "message": "You must accept the Terms and Conditions before continuing."}
    assert (await api.post("/api/rates", {})).json()["error_code"] == "AGREEMENT_REQUIRED"
    pending = (await api.get("/api/agreement")).json()
    assert pending["agreement_required"] is True and pending["data"]["id"] == 3
    assert (await api.post("/api/agreement", {"action": "accept"})).status_code == 422
    assert (await api.post("/api/agreement", {"action": "accept", "agreement_id": 2})).status_code == 404
    accepted = await api.post("/api/agreement", {"action": "accept", "agreement_id": 3})
    assert accepted.json()["message"] == "Agreement accepted successfully."
    assert (await api.get("/api/agreement")).json() == {"status": "success", "agreement_required": False}
    assert (await api.get("/api/warehouse")).status_code == 200


async def test_rates_validation_and_lane(api: Api, shiplee_sim: ShipleeSim) -> None:
    info = {"source_pincode": "110001", "destination_pincode": "560001", "order_weight": 1500, "order_value": 1200,
            "payment_type": "cod"}
    body = (await api.post("/api/rates", {"order_info": info})).json()
    assert body["status"] == 1 and body["data"]["order_summary"]["order_weight"] == 1500
    first = body["data"]["carrier_info"][0]
    assert first["cost"] == first["freight_charges"] + first["cod_charges"]
    assert (await api.post("/api/rates", {"order_info": {**info, "payment_type": "upi"}})).status_code == 422
    assert (await api.post("/api/rates", {"order_info": {**info, "order_weight": None}})).status_code == 422
    shiplee_sim.unserviceable_pincodes.add("560001")
    assert (await api.post("/api/rates", {"order_info": info})).status_code == 404


@pytest.mark.parametrize("change", [
    {"mobile": "5876543210"}, {"mobile": "987654321"}, {"pincode": "56001"}, {"address1": "x" * 101},
    {"payment_type": "prepaid"}, {"pickup_type": "return"}, {"products": []}, {"parcels": []}, {"order_id": ""},
    {"products": [{"product_name": "Shoes", "quantity": 1.5, "product_price": 10}]},
])
async def test_create_order_refuses_what_the_seed_refuses(api: Api, change: dict[str, Any]) -> None:
    response = await api.post("/api/create_order", {**ORDER, **change})
    assert response.status_code == 422 and response.json()["success"] is False


async def test_create_order_computes_charge_weight_and_allows_a_repeated_reference(
        api: Api, shiplee_sim: ShipleeSim) -> None:
    first = await create(api, parcels=[{"length": 30, "breadth": 20, "height": 15, "physical_weight": 0.5}])
    second = await create(api)  # the seed documents no guard on the seller's order_id
    assert first != second
    assert shiplee_sim.orders[first]["charge_weight_grams"] == 1800  # 30×20×15/5000 kg beats 0.5 kg


async def test_booking_pipeline_order(api: Api, shiplee_sim: ShipleeSim) -> None:
    oid = await create(api)
    shiplee_sim.wallet = Decimal("499")
    shiplee_sim.unserviceable_pincodes.add("560001")
    assert (await book(api, oid, warehouse=99)).status_code == 404  # warehouse before wallet (step 4 < 5)
    low = await book(api, oid)
    assert low.status_code == 402 and low.json()["error_code"] == "INSUFFICIENT_BALANCE"  # wallet before lane
    shiplee_sim.wallet = Decimal(5000)
    unserved = await book(api, oid)
    assert unserved.status_code == 422 and unserved.json()["error_code"] == "NOT_SERVICEABLE"
    shiplee_sim.unserviceable_pincodes.clear()
    assert (await book(api, oid, carrier="no_such_carrier")).status_code == 422
    assert (await book(api, 424242)).status_code == 404
    shiplee_sim.courier_failures = 1
    assert (await book(api, oid)).status_code == 500
    ok = await book(api, oid)
    assert ok.status_code == 200 and ok.json()["charges"]["cost"] == 124  # ₹1299 is under the COD threshold
    again = await book(api, oid)
    assert again.status_code == 409 and again.json()["error_code"] == "ALREADY_BOOKED"
    assert again.json()["awb_number"] == ok.json()["awb_number"]
    assert shiplee_sim.wallet == Decimal(5000 - 124)


async def test_cancel_rules(api: Api, shiplee_sim: ShipleeSim) -> None:
    new, booked, moving = await create(api), await create(api), await create(api)
    await book(api, booked)
    awb = (await book(api, moving)).json()["awb_number"]
    shiplee_sim.advance(awb, "in_transit")
    result = (await api.post("/api/cancel_orders", {"order_ids": [new, booked, 999]})).json()
    assert result["cancelled"] == [new]
    assert result["skipped"] == {"not_found": [999], "non_cancellable": {str(booked): "booked"}}
    none = await api.post("/api/cancel_orders", {"order_ids": [booked]})
    assert none.status_code == 422
    assert (await api.post("/api/cancel_shipments", {"order_ids": [moving]})).status_code == 422  # picked up
    done = (await api.post("/api/cancel_shipments", {"order_ids": [booked]})).json()
    assert done["new_status"] == "cancelled" and done["cancelled_count"] == 1
    assert Decimal(str(done["wallet_balance"])) == shiplee_sim.wallet


async def test_get_and_search_orders(api: Api, shiplee_sim: ShipleeSim) -> None:
    unbooked, booked = await create(api, order_id="A-1"), await create(api, order_id="A-2", name="Priya Nair")
    awb = (await book(api, booked)).json()["awb_number"]
    listed = (await api.post("/api/get_orders", {})).json()
    assert listed["success"] is True and [r["customer_order_id"] for r in listed["data"]] == ["A-1"]
    assert listed["data"][0]["id"] == unbooked
    assert (await api.post("/api/search_orders", {"search": "Pr"})).json() == {"orders": []}
    found = (await api.post("/api/search_orders", {"search": "priya"})).json()["orders"]
    assert [(r["customer_info_id"], r["awb_number"], r["status"]) for r in found] == [(booked, awb, "booked")]


async def test_manifest(api: Api, shiplee_sim: ShipleeSim) -> None:
    oid = await create(api)
    awb = (await book(api, oid)).json()["awb_number"]
    assert (await api.get("/api/manifest", order_ids=str(oid))).status_code == 404
    assert (await api.get("/api/manifest", order_ids="")).status_code == 422
    assert (await api.get("/api/manifest", order_ids=",".join(map(str, range(501))))).status_code == 422
    shiplee_sim.advance(awb, "manifested")
    pdf = await api.get("/api/manifest", order_ids=str(oid), warehouse_id=1)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "Shiplee_Manifest_" in pdf.headers["content-disposition"]


async def test_fault_switches(api: Api, shiplee_sim: ShipleeSim) -> None:
    shiplee_sim.faults.rate_limit("/api/warehouse", retry_after=2)
    limited = await api.get("/api/warehouse")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    shiplee_sim.faults.server_error("/api/warehouse", status=502)
    assert "nginx" in (await api.get("/api/warehouse")).text
    assert (await api.get("/api/warehouse")).status_code == 200
    assert shiplee_sim.calls.count(("GET", "/api/warehouse")) == 3
