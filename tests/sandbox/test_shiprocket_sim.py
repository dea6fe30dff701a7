"""The Shiprocket simulator against the real API's documented shapes, over real HTTP.

Other tests trust this simulator to behave like Shiprocket; these tests pin the behaviours they rely
on (error envelopes, errors inside 200s, the two status numberings, the remittance shapes) so a change
to the simulator that drifts from the facts file fails here first.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from sandbox.server import ThreadedServer
from sandbox.shiprocket import ShiprocketSim
from sandbox.shiprocket_auth import decode_claims
from sandbox.shiprocket_format import now_ist
from sandbox.shiprocket_routes import create_app

SAMPLE_A_KEYS = {
    "awb", "courier_name", "current_status", "current_status_id", "shipment_status", "shipment_status_id",
    "current_timestamp", "order_id", "sr_order_id", "awb_assigned_date", "pickup_scheduled_date", "etd",
    "scans", "is_return", "channel_id", "pod_status", "pod", "qc_image", "qc_failure_reason",
}
SCAN_KEYS = {"date", "status", "activity", "location", "sr-status", "sr-status-label"}


@pytest.fixture(scope="module")
def sim() -> Iterator[ShiprocketSim]:
    simulator = ShiprocketSim()
    server = ThreadedServer(create_app(simulator)).start()
    simulator.base_url = f"{server.url}/v1/external"
    yield simulator
    server.stop()


@pytest.fixture(scope="module")
async def client(sim: ShiprocketSim) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5.0) as http:
        yield http


class Api:
    """The HTTP client plus a bearer token, so each test reads as the calls it makes."""

    def __init__(self, client: httpx.AsyncClient, sim: ShiprocketSim) -> None:
        self.client, self.sim = client, sim
        self.headers: dict[str, str] = {}

    async def login(self, password: str | None = None) -> httpx.Response:
        credentials = {"email": self.sim.email, "password": password or self.sim.password}
        return await self.client.post("/auth/login", json=credentials)

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers)

    async def create(self, order_id: str, **overrides: Any) -> dict[str, Any]:
        response = await self.post("/orders/create/adhoc", adhoc(order_id, **overrides))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def assign(self, shipment_id: int, **extra: Any) -> httpx.Response:
        return await self.post("/courier/assign/awb", {"shipment_id": shipment_id, **extra})

    async def shipped(self, order_id: str, *, pickup: bool = True, **overrides: Any) -> tuple[dict[str, Any], str]:
        """A created order with an AWB (and its pickup requested, so a courier may scan it): the create
        body and the AWB."""
        created = await self.create(order_id, **overrides)
        assigned = await self.assign(created["shipment_id"])
        if pickup:
            requested = await self.post("/courier/generate/pickup", {"shipment_id": [created["shipment_id"]]})
            assert requested.status_code == 200, requested.text
        return created, assigned.json()["response"]["data"]["awb_code"]


@pytest.fixture
async def api(sim: ShiprocketSim, client: httpx.AsyncClient) -> Api:
    """A fresh simulator state and a logged-in client; login_count and calls start from zero."""
    sim.reset()
    session = Api(client, sim)
    session.headers = {"Authorization": f"Bearer {(await session.login()).json()['token']}"}
    sim.login_count = 0
    sim.calls.clear()
    return session


def adhoc(order_id: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "order_id": order_id, "order_date": "2026-06-14 10:30", "pickup_location": "Primary Warehouse",
        "billing_customer_name": "Priya", "billing_last_name": "Sharma", "billing_address": "12 MG Road",
        "billing_city": "Bengaluru", "billing_pincode": "560001", "billing_state": "Karnataka",
        "billing_country": "India", "billing_email": "priya@example.com", "billing_phone": "9876543210",
        "shipping_is_billing": True,
        "order_items": [{"name": "Steel Bottle 1L", "sku": "SSB-1L", "units": 2, "selling_price": 499}],
        "payment_method": "COD", "sub_total": 998, "length": 20, "breadth": 15, "height": 10, "weight": 0.5,
    }
    return {**payload, **overrides}


def return_payload(order_id: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "order_id": order_id, "order_date": "2026-06-20", "pickup_customer_name": "Priya Sharma",
        "pickup_address": "12 MG Road", "pickup_city": "Bengaluru", "pickup_state": "Karnataka",
        "pickup_country": "India", "pickup_pincode": "560001", "pickup_email": "priya@example.com",
        "pickup_phone": "9876543210", "shipping_customer_name": "Shipbridge Test Seller",
        "shipping_address": "Unit 4", "shipping_city": "Mumbai", "shipping_country": "India",
        "shipping_pincode": "400001", "shipping_state": "Maharashtra", "shipping_phone": "9999999999",
        "shipping_email": "ops@example.com", "pickup_location_id": 1000,
        "order_items": [{"name": "Steel Bottle 1L", "sku": "SSB-1L", "units": 1, "selling_price": 499}],
        "payment_method": "Prepaid", "sub_total": 499, "length": 20, "breadth": 15, "height": 10,
        "weight": 0.5,
    }
    return {**payload, **overrides}


UNAUTHENTICATED = (401, {"message": "Unauthenticated."})


# --- auth --------------------------------------------------------------------------------------------

async def test_login_issues_a_jwt_that_expires_in_ten_days(sim: ShiprocketSim, api: Api) -> None:
    response = await api.login()
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"id", "first_name", "last_name", "email", "company_id", "created_at", "token"}
    claims = decode_claims(body["token"])
    assert claims["exp"] - claims["iat"] == 864000
    assert claims["iss"] == "https://sr-auth.shiprocket.in/authorize/user" and claims["sub"] == body["id"]
    assert sim.login_count == 1


async def test_bad_credentials_get_403_and_are_not_counted(sim: ShiprocketSim, api: Api) -> None:
    response = await api.login(password="wrong")
    assert response.status_code == 403
    assert response.json() == {"message": "Invalid email and password combination", "status_code": 403}
    assert sim.login_count == 0


async def test_missing_revoked_or_aged_tokens_get_401(sim: ShiprocketSim, api: Api) -> None:
    assert (await api.get("/orders")).status_code == 200
    missing = await api.client.get("/orders")
    assert (missing.status_code, missing.json()) == UNAUTHENTICATED

    sim.expire_tokens()
    revoked = await api.get("/orders")
    assert (revoked.status_code, revoked.json()) == UNAUTHENTICATED

    api.headers = {"Authorization": f"Bearer {(await api.login()).json()['token']}"}
    assert (await api.get("/orders")).status_code == 200
    sim.clock = lambda: now_ist() + timedelta(days=10, seconds=1)  # past `exp`
    assert (await api.get("/orders")).status_code == 401


# --- serviceability ----------------------------------------------------------------------------------

async def quote(api: Api, **params: Any) -> dict[str, Any]:
    query = {"pickup_postcode": "400001", "delivery_postcode": "560001", "cod": 1, "weight": 0.5,
             "declared_value": 998, **params}
    response = await api.get("/courier/serviceability/", **query)
    assert response.status_code == 200
    return dict(response.json())


def rates(body: dict[str, Any]) -> dict[int, Any]:
    return {e["courier_company_id"]: e["rate"] for e in body["data"]["available_courier_companies"]}


async def test_serviceability_returns_real_shape_and_rates_depend_on_cod_and_weight(api: Api) -> None:
    cod, prepaid, heavy = await quote(api), await quote(api, cod=0), await quote(api, cod=0, weight=12)
    assert cod["status"] == 200 and cod["currency"] == "INR"
    entries = cod["data"]["available_courier_companies"]
    first = entries[0]
    for key in ("courier_company_id", "courier_name", "rate", "freight_charge", "cod_charges", "etd",
                "etd_hours", "rating", "cod", "is_surface", "min_weight", "zone", "city", "state",
                "postcode"):
        assert key in first, key
    assert isinstance(first["estimated_delivery_days"], str) and first["estimated_delivery_days"].isdigit()
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{2}, \d{4}", first["etd"])
    assert isinstance(first["surface_max_weight"], str) and isinstance(first["air_max_weight"], str)
    recommended = cod["data"]["recommended_courier_company_id"]
    assert recommended == cod["data"]["shiprocket_recommended_courier_id"]
    assert recommended in rates(cod)
    assert cod["data"]["recommended_by"] == {"id": 6, "title": "Recommendation By Shiprocket"}

    assert 225 in rates(prepaid) and 225 not in rates(cod)  # a prepaid-only courier drops out for COD
    assert rates(cod)[43] > rates(prepaid)[43] and entries[0]["cod_charges"] > 0
    assert 10 not in rates(heavy) and 43 in rates(heavy)  # Delhivery Air tops out at 5 kg
    assert rates(heavy)[43] > rates(prepaid)[43]


async def test_unserviceable_pincodes_answer_200_with_no_couriers(sim: ShiprocketSim, api: Api) -> None:
    sim.unserviceable_pincodes.add("744101")
    for pincode in ("744101", "12345"):
        body = await quote(api, delivery_postcode=pincode)
        assert body["status"] == 404 and body["data"]["available_courier_companies"] == []


async def test_serviceability_without_weight_or_cod_is_422(api: Api) -> None:
    response = await api.get("/courier/serviceability/", pickup_postcode="400001",
                             delivery_postcode="560001")
    body = response.json()
    assert response.status_code == 422 and body["message"] == "Required field missing"
    assert body["errors"]["weight"] == ["The weight field is required when order id is not present."]
    assert {"cod", "order_id"} <= set(body["errors"])


# --- orders ------------------------------------------------------------------------------------------

async def test_adhoc_create_answers_the_documented_body(sim: ShiprocketSim, api: Api) -> None:
    body = await api.create("ZI-10045")
    assert body == {"order_id": body["order_id"], "shipment_id": body["shipment_id"], "status": "NEW",
                    "status_code": 1, "onboarding_completed_now": 0, "awb_code": None,
                    "courier_company_id": None, "courier_name": None}
    stored = sim.order_by_channel_id("ZI-10045")
    assert stored is not None and stored["order_id"] == body["order_id"]
    assert stored["payload"]["sub_total"] == 998 and stored["total"] == Decimal("998")
    assert sim.shipments[body["shipment_id"]]["order_id"] == body["order_id"]


async def test_adhoc_validation_and_pickup_location_errors(api: Api) -> None:
    bad = adhoc("ZI-1", billing_city="", payment_method="UPI", length=0.2)
    del bad["sub_total"]
    invalid = await api.post("/orders/create/adhoc", bad)
    assert invalid.status_code == 422 and invalid.json()["message"] == "Oops! Invalid Data."
    assert invalid.json()["errors"]["billing_city"] == ["The billing city field is required."]
    assert {"sub_total", "payment_method", "length"} <= set(invalid.json()["errors"])

    wrong = await api.post("/orders/create/adhoc", adhoc("ZI-2", pickup_location="primary warehouse"))
    assert wrong.status_code == 422
    assert wrong.json()["message"].startswith("Wrong Pickup location entered")
    assert [loc["pickup_location"] for loc in wrong.json()["data"]] == ["Primary Warehouse"]


async def test_duplicate_order_id_returns_the_existing_cancelled_order(sim: ShiprocketSim, api: Api) -> None:
    first = await api.create("ZI-77")
    assert (await api.post("/orders/cancel", {"ids": [first["order_id"]]})).status_code == 204
    again = await api.create("ZI-77", sub_total=1500, shipping_charges=502)
    assert (again["order_id"], again["shipment_id"]) == (first["order_id"], first["shipment_id"])
    assert (again["status"], again["status_code"], again["awb_code"]) == ("CANCELED", 5, "")
    assert len(sim.orders) == 1


async def test_duplicate_order_id_in_error_mode_is_422_taken(sim: ShiprocketSim, api: Api) -> None:
    sim.duplicate_order_mode = "error_422"
    await api.create("ZI-78")
    response = await api.post("/orders/create/adhoc", adhoc("ZI-78"))
    assert response.status_code == 422
    assert response.json()["errors"] == {"order_id": ["The order id has already been taken."]}
    assert len(sim.orders) == 1
    with pytest.raises(ValueError):
        sim.duplicate_order_mode = "error_409"  # a typo must not silently act like the default


async def test_cancel_is_204_and_unknown_ids_are_500(sim: ShiprocketSim, api: Api) -> None:
    created, awb = await api.shipped("ZI-80", pickup=False)
    response = await api.post("/orders/cancel", {"ids": [created["order_id"]]})
    assert response.status_code == 204 and response.content == b""
    assert sim.orders[created["order_id"]]["status_code"] == 5
    assert sim.shipments[created["shipment_id"]]["status_id"] == 8
    assert (await api.post("/orders/cancel", {"ids": [1]})).status_code == 500
    missing = await api.post("/orders/cancel", {})
    assert missing.status_code == 422 and missing.json()["errors"] == {"ids": ["The ids field is required."]}
    after = await api.assign(created["shipment_id"], status="reassign")
    assert after.status_code == 400


# --- AWB and pickup ----------------------------------------------------------------------------------

async def test_assign_awb_success_matches_the_documented_body(sim: ShiprocketSim, api: Api) -> None:
    created = await api.create("ZI-90")
    response = await api.assign(created["shipment_id"])
    body = response.json()
    data = body["response"]["data"]
    assert response.status_code == 200 and body["awb_assign_status"] == 1
    assert isinstance(data["awb_code"], str) and data["awb_code"].isdigit()
    assert (data["courier_company_id"], data["courier_name"]) == (43, "Delhivery Surface")  # recommended
    assert (data["order_id"], data["shipment_id"]) == (created["order_id"], created["shipment_id"])
    assert data["cod"] == 1 and data["assigned_date_time"]["timezone"] == "Asia/Kolkata"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d 14:00:00", data["pickup_scheduled_date"])
    assert {"shipper_postcode", "rto_postcode"} <= set(data["shipped_by"])
    assert sim.awb_index[data["awb_code"]] == created["shipment_id"]
    assert sim.orders[created["order_id"]]["status"] == "READY TO SHIP"

    again = await api.assign(created["shipment_id"])
    assert (again.status_code, again.json()["message"]) == (400, "AWB is already assigned")
    assert (await api.assign(1)).status_code == 400
    chosen = await api.create("ZI-91")
    picked = (await api.assign(chosen["shipment_id"], courier_id=33)).json()["response"]["data"]
    assert picked["courier_name"] == "Xpressbees Surface" and picked["awb_code"] != data["awb_code"]


@pytest.mark.parametrize(("mode", "status"), [("error_in_200", 200), ("http_400", 400), ("http_500", 500)])
async def test_injected_awb_failures_change_nothing_and_then_clear(sim: ShiprocketSim, api: Api, mode: str,
                                                                   status: int) -> None:
    created = await api.create(f"ZI-F-{mode}")
    sim.fail_awb_assignments(1, mode=mode, message="Wallet balance low, please recharge")
    failed = await api.assign(created["shipment_id"])
    assert failed.status_code == status
    if mode == "error_in_200":
        assert failed.json() == {"awb_assign_status": 0, "response": {"data": {
            "awb_assign_error": "Wallet balance low, please recharge"}}}
    else:
        assert failed.json() == {"message": "Wallet balance low, please recharge", "status_code": status}
    assert sim.shipments[created["shipment_id"]]["awb"] is None and sim.awb_index == {}
    assert (await api.assign(created["shipment_id"])).json()["awb_assign_status"] == 1


async def test_generate_pickup_then_already_in_queue(api: Api) -> None:
    bare = await api.create("ZI-95")
    early = await api.post("/courier/generate/pickup", {"shipment_id": [bare["shipment_id"]]})
    assert early.status_code == 400
    created, awb = await api.shipped("ZI-96", pickup=False)
    first = await api.post("/courier/generate/pickup", {"shipment_id": [created["shipment_id"]]})
    assert first.status_code == 200 and first.json()["pickup_status"] == 1
    assert first.json()["response"]["data"].endswith(awb)
    repeat = await api.post("/courier/generate/pickup", {"shipment_id": [created["shipment_id"]]})
    assert (repeat.status_code, repeat.json()) == (400, {"message": "Already in Pickup Queue."})


# --- faults and routing ------------------------------------------------------------------------------

async def test_faultbox_429_and_html_502_are_served_and_recorded(sim: ShiprocketSim, api: Api) -> None:
    sim.faults.rate_limit("/courier/assign/awb", retry_after=7)
    sim.faults.server_error("/orders/create/adhoc", status=502)
    limited = await api.assign(1)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    gateway = await api.post("/orders/create/adhoc", adhoc("ZI-99"))
    assert gateway.status_code == 502 and gateway.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in gateway.text and sim.orders == {}
    assert (await api.post("/orders/create/adhoc", adhoc("ZI-99"))).status_code == 200
    assert sim.calls == [("POST", "/courier/assign/awb"), ("POST", "/orders/create/adhoc"),
                         ("POST", "/orders/create/adhoc")]


async def test_unknown_path_is_shiprockets_404(sim: ShiprocketSim, api: Api) -> None:
    response = await api.get("/courier/nowhere")
    assert (response.status_code, response.json()) == (404, {"message": "404 Not Found", "status_code": 404})
    assert sim.calls[-1] == ("GET", "/courier/nowhere")


# --- tracking lifecycle and webhooks -----------------------------------------------------------------

async def test_advance_gives_sample_a_bodies_with_the_two_schemes_apart(sim: ShiprocketSim, api: Api) -> None:
    created, awb = await api.shipped("ZI-100")
    expected = {42: (51, "PICKED UP"), 6: (6, "SHIPPED"), 18: (20, "IN TRANSIT"),
                17: (19, "OUT FOR DELIVERY"), 21: (36, "UNDELIVERED"), 7: (7, "DELIVERED")}
    bodies = {status: sim.advance(awb, status) for status in expected}
    for status, (order_status, label) in expected.items():
        body = bodies[status]
        assert set(body) == SAMPLE_A_KEYS
        assert (body["shipment_status_id"], body["current_status_id"]) == (status, order_status)
        assert body["current_status"] == label and body["scans"][-1]["sr-status"] == str(status)
    in_transit = bodies[18]
    assert in_transit["awb"] == awb and isinstance(in_transit["awb"], str)
    assert re.fullmatch(r"\d{2} \d{2} \d{4} \d{2}:\d{2}:\d{2}", in_transit["current_timestamp"])
    assert (in_transit["order_id"], in_transit["sr_order_id"]) == ("ZI-100", created["order_id"])
    assert set(in_transit["scans"][0]) == SCAN_KEYS and in_transit["is_return"] == 0
    assert len(bodies[7]["scans"]) == 6 and bodies[7]["pod"] == "Available"
    assert sim.orders[created["order_id"]]["status_code"] == 7


async def test_rto_and_return_shipments_map_to_their_own_order_statuses(sim: ShiprocketSim, api: Api) -> None:
    _, awb = await api.shipped("ZI-110")
    rto = [sim.advance(awb, s)["current_status_id"] for s in (42, 18, 21, 9, 46, 10)]
    assert rto == [51, 20, 36, 15, 55, 16]
    assert sim.awb_index[awb] and sim.shipments[sim.awb_index[awb]]["is_rto"] is True

    created = (await api.post("/orders/create/return", return_payload("ZI-110-R"))).json()
    assert (created["status"], created["status_code"]) == ("RETURN PENDING", 21)
    return_awb = (await api.assign(created["shipment_id"])).json()["response"]["data"]["awb_code"]
    bodies = [sim.advance(return_awb, s) for s in (42, 18, 7)]
    assert [b["current_status_id"] for b in bodies] == [32, 25, 26]
    assert [b["shipment_status_id"] for b in bodies] == [42, 18, 7]
    assert bodies[-1]["is_return"] == 1 and bodies[-1]["current_status"] == "RETURN DELIVERED"


async def test_return_create_rejects_duplicates_and_cod(api: Api) -> None:
    assert (await api.post("/orders/create/return", return_payload("R-1"))).status_code == 200
    duplicate = await api.post("/orders/create/return", return_payload("R-1"))
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"]["order_id"] == ["The order id has already been taken."]
    cod = await api.post("/orders/create/return", return_payload("R-2", payment_method="COD"))
    assert cod.status_code == 422 and "payment_method" in cod.json()["errors"]


async def test_legacy_body_is_sample_b_shaped(sim: ShiprocketSim, api: Api) -> None:
    created, awb = await api.shipped("ZI-120")
    sim.advance(awb, 42, when=now_ist() - timedelta(hours=2))
    sim.advance(awb, 7)
    body = sim.legacy_webhook_body(awb)
    assert body["awb"] == int(awb) and body["order_id"] == str(created["order_id"])
    assert body["channel_order_id"] == "ZI-120" and body["current_status"] == "Delivered"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", body["current_timestamp"])
    assert [set(s) for s in body["scans"]] == [{"date", "activity", "location"}] * 2
    assert body["scans"][0]["date"] > body["scans"][1]["date"]  # newest first


async def test_tracking_endpoints_follow_sample_c(sim: ShiprocketSim, api: Api) -> None:
    created, awb = await api.shipped("ZI-130")
    quiet = (await api.get(f"/courier/track/awb/{awb}")).json()["tracking_data"]
    assert quiet["track_status"] == 0 and quiet["error"].startswith("Aahh!")
    sim.advance(awb, 42, when=now_ist() - timedelta(hours=3))
    sim.advance(awb, 18, when=now_ist() - timedelta(hours=2))
    sim.advance(awb, 7)
    data = (await api.get(f"/courier/track/awb/{awb}")).json()["tracking_data"]
    assert data["track_status"] == 1 and data["shipment_status"] == 7
    track = data["shipment_track"][0]
    assert (track["awb_code"], track["order_id"]) == (awb, created["order_id"])
    assert track["current_status"] == "Delivered" and track["pod"] == "Available"
    assert [a["sr-status"] for a in data["shipment_track_activities"]] == ["7", "18", "42"]
    assert data["track_url"].endswith(awb)

    many = (await api.post("/courier/track/awbs", {"awbs": [awb, "999"]})).json()
    assert set(many) == {awb, "999"} and many["999"]["tracking_data"]["track_status"] == 0
    assert many[awb]["tracking_data"]["shipment_status"] == 7
    assert (await api.post("/courier/track/awbs", {"awbs": ["1"] * 51})).status_code == 422
    by_shipment = (await api.get(f"/courier/track/shipment/{created['shipment_id']}")).json()
    assert by_shipment == {"tracking_data": data}


async def test_deliver_webhook_posts_json_with_x_api_key(sim: ShiprocketSim, api: Api) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    receiver = FastAPI()

    @receiver.post("/hooks/tracking")
    async def hook(request: Request) -> dict[str, str]:
        received.append((dict(request.headers), await request.body()))
        return {"ok": "yes"}

    server = ThreadedServer(receiver).start()
    try:
        _, awb = await api.shipped("ZI-140")
        body = sim.advance(awb, 18)
        response = await sim.deliver_webhook(f"{server.url}/hooks/tracking", "hook-secret", body)
        raw = await sim.deliver_webhook(f"{server.url}/hooks/tracking", "hook-secret", b'{"awb": 1')
    finally:
        server.stop()
    assert response.status_code == 200 and raw.status_code == 200
    headers, content = received[0]
    assert headers["x-api-key"] == "hook-secret" and headers["content-type"] == "application/json"
    assert json.loads(content) == body
    assert received[1][1] == b'{"awb": 1'


# --- remittance --------------------------------------------------------------------------------------

async def test_remittance_batch_in_webhook_listing_and_order_views(sim: ShiprocketSim, api: Api) -> None:
    first, awb1 = await api.shipped("ZI-150")
    second, awb2 = await api.shipped("ZI-151", sub_total=1500.5, shipping_charges=502.5)
    undelivered, awb3 = await api.shipped("ZI-152")
    for awb in (awb1, awb2):
        sim.advance(awb, 7)
    with pytest.raises(ValueError, match="not a delivered COD shipment"):
        sim.add_remittance(awbs=[awb3], remittance_date=date(2026, 6, 24))

    hook = sim.add_remittance(awbs=[awb1, awb2], remittance_date=date(2026, 6, 24),
                              deductions={awb2: Decimal("45.50")})
    assert hook == {"remittance_id": hook["remittance_id"], "remittance_date": "2026-06-24",
                    "bank_transfer_amount": "2453.00", "orders": [
                        {"awb": awb1, "order_id": "ZI-150", "cod_amount": "998.00",
                         "deducted_charges": "0.00"},
                        {"awb": awb2, "order_id": "ZI-151", "cod_amount": "1500.50",
                         "deducted_charges": "45.50"}]}
    with pytest.raises(ValueError, match="already remitted"):
        sim.add_remittance(awbs=[awb1], remittance_date=date(2026, 6, 26))

    listed = (await api.get("/account/details/remittance", page=1, per_page=15,
                            **{"from": "2026-Jun-01", "to": "2026-Jun-30"})).json()
    [row] = listed["data"]
    assert str(row["crf_id"]) == hook["remittance_id"] and row["status"] == "Remittance success"
    amounts = (row["cod_payble"], row["deduction_value"], row["remitted_value"])
    assert amounts == ("2498.50", "45.50", "2453.00")
    assert isinstance(row["created_at"], int) and row["remittance_amount"][0]["utr"] == row["utr"]
    assert listed["meta"]["remitance_count"] == 1 and listed["meta"]["pagination"]["total"] == 1
    july = await api.get("/account/details/remittance", **{"from": "2026-Jul-01", "to": "2026-Jul-31"})
    assert july.json()["data"] == []
    assert (await api.get("/account/details/remittance", **{"from": "2026-06-01"})).status_code == 422

    shown = (await api.get(f"/orders/show/{second['order_id']}")).json()["data"]
    assert (shown["remittance_utr"], shown["remittance_date"]) == (row["utr"], "2026-06-24")
    assert shown["remittance_status"] == "Remitted" and shown["net_total"] == "1500.50"
    pending = (await api.get(f"/orders/show/{undelivered['order_id']}")).json()["data"]
    assert pending["remittance_utr"] == "" and pending["cod"] == 1
    delivered = (await api.get("/orders", filter_by="status", filter=7)).json()["data"]
    assert sorted(r["channel_order_id"] for r in delivered) == ["ZI-150", "ZI-151"]
    found = (await api.get("/orders", search=awb2)).json()["data"]
    assert [r["id"] for r in found] == [second["order_id"]] and first["order_id"] != second["order_id"]
    missing = await api.get("/orders/show/1")
    assert (missing.status_code, missing.json()["message"]) == (400, "Order ID not found")


def test_return_orders_need_the_warehouse_email_and_pickup_location_id():
    from sandbox.shiprocket import ShiprocketSim
    from sandbox.shiprocket_ops import create_return

    sim = ShiprocketSim()
    base = {"order_id": "SO-1-RET1", "order_date": "2026-11-23", "pickup_customer_name": "Priya",
            "pickup_address": "12 MG Road", "pickup_city": "Bengaluru", "pickup_state": "Karnataka",
            "pickup_country": "India", "pickup_pincode": "560001", "pickup_email": "p@example.com",
            "pickup_phone": "9876543210", "shipping_customer_name": "Warehouse", "shipping_address": "Unit 4",
            "shipping_city": "Mumbai", "shipping_country": "India", "shipping_pincode": "400001",
            "shipping_state": "Maharashtra", "shipping_phone": "9999999999", "payment_method": "Prepaid",
            "order_items": [{"name": "Kurta", "sku": "K", "units": 2, "selling_price": 524.5}],
            "sub_total": 1049, "length": 10, "breadth": 10, "height": 5, "weight": 0.5}
    status, body = create_return(sim, base)
    assert status == 422 and set(body["errors"]) == {"shipping_email", "pickup_location_id"}
    status, body = create_return(sim, {**base, "shipping_email": "wh@example.com", "pickup_location_id": 77})
    assert status == 422 and "pickup_location_id" in body["errors"]
    status, body = create_return(sim, {**base, "shipping_email": "wh@example.com", "pickup_location_id": 1000,
                                       "sub_total": 1000})
    assert status == 422 and "sub_total" in body["errors"]
    status, body = create_return(sim, {**base, "shipping_email": "wh@example.com", "pickup_location_id": 1000})
    assert status == 200 and body["status"] == "RETURN PENDING"
