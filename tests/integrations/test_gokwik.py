"""GoKwik RTO Predict client against the simulator: the envelope's statusCode decides (failures arrive
inside HTTP 200), every failure is GoKwikUnavailable, and a slow GoKwik costs at most two timeouts."""

from __future__ import annotations

import time

import httpx
import pytest

from app.fulfilment.order_mapping import ship_order_from_json
from app.fulfilment.risk import decide, needs_check
from app.integrations.gokwik.client import GoKwikClient, GoKwikUnavailable, RiskPrediction, normalise_category

ORDER = {
    "salesorder_id": "4600000000000000001", "salesorder_number": "SO-00042", "order_date": "2026-12-02",
    "customer_id": "4600000000000000009",
    "address": {"name": "Priya Sharma", "line1": "12 MG Road", "line2": "", "city": "Bengaluru",
                "state": "Karnataka", "pincode": "560001", "country": "India", "phone": "9876543210",
                "email": "priya@example.com"},
    "lines": [{"line_item_id": "1", "item_id": "77", "sku": "SSB-1L", "name": "Bottle", "quantity": "2",
               "rate": "499.00"}],
    "total": "998.00", "payment_method": "COD",
    "parcel": {"weight_kg": "0.84", "length_cm": "20", "breadth_cm": "15", "height_cm": "10"},
}


@pytest.fixture
async def client(gokwik):  # noqa: ANN001
    async with httpx.AsyncClient() as http:
        from app.settings import Settings

        yield GoKwikClient(http, gokwik_settings(gokwik, Settings()))


def gokwik_settings(sim, settings):  # noqa: ANN001, ANN201
    from pydantic import SecretStr

    settings.GOKWIK_API_URL, settings.GOKWIK_APP_ID, settings.GOKWIK_MID = sim.base_url, sim.app_id, sim.mid
    settings.GOKWIK_APP_SECRET = SecretStr(sim.app_secret)
    settings.GOKWIK_TIMEOUT_SECONDS = 0.5
    return settings


async def test_prediction_is_read_from_the_envelope(client, gokwik):  # noqa: ANN001
    gokwik.set_risk("560001", "High Risk", "Address incomplete")
    p = await client.predict(ship_order_from_json(ORDER))
    assert (p.category, p.reason) == ("High", "Address incomplete") and p.request_id
    [body] = gokwik.requests
    assert body["order"]["total"] == "998.00" and body["line_items"][0]["sku"] == "SSB-1L"


async def test_failures_inside_http_200_and_refusals_are_unavailable(client, gokwik):  # noqa: ANN001
    gokwik.error_in_200("Unable to get order details")
    with pytest.raises(GoKwikUnavailable, match="statusCode 500: Unable to get order details"):
        await client.predict(ship_order_from_json(ORDER))
    client.settings.GOKWIK_MID = "live-mid"
    with pytest.raises(GoKwikUnavailable, match="Merchant not registered"):
        await client.predict(ship_order_from_json(ORDER))
    client.settings.GOKWIK_MID = gokwik.mid
    client.settings.GOKWIK_APP_ID = "wrong"
    with pytest.raises(GoKwikUnavailable, match="statusCode 401"):
        await client.predict(ship_order_from_json(ORDER))


async def test_down_or_slow_costs_at_most_two_tries(client, gokwik):  # noqa: ANN001
    gokwik.down()
    with pytest.raises(GoKwikUnavailable, match="HTTP 503"):
        await client.predict(ship_order_from_json(ORDER))
    assert gokwik.calls == 0  # the faults answer before the route
    gokwik.reset()
    gokwik.slow(3.0)
    started = time.monotonic()
    with pytest.raises(GoKwikUnavailable, match="Timeout"):
        await client.predict(ship_order_from_json(ORDER))
    assert time.monotonic() - started < 1.6  # two 0.5 s timeouts, no backoff


async def test_the_simulator_refuses_missing_headers(gokwik):  # noqa: ANN001
    async with httpx.AsyncClient(base_url=gokwik.base_url) as http:
        answer = await http.post("/v2/rto/predict", json={}, headers={"appid": gokwik.app_id})
    assert answer.status_code == 403 and answer.json()["statusMessage"] == "Missing required header: appsecret"


def test_categories_and_the_hold_decision():
    assert [normalise_category(f) for f in ("High Risk", "medium risk", "Low", "Control", "Severe")] == [
        "High", "Medium", "Low", "Control", None]
    high = RiskPrediction("High", "Address too short", "r1", {})
    assert decide(high, frozenset({"high"})).hold
    assert decide(high, frozenset({"high"})).reason == "RTO risk: GoKwik High risk: Address too short"
    assert not decide(RiskPrediction("Medium", "", "r2", {}), frozenset({"high"})).hold
    assert decide(RiskPrediction("Medium", "", "r2", {}), frozenset({"high", "medium"})).hold
    assert not decide(None, frozenset({"high", "medium", "low", "control"})).hold  # never block on GoKwik
    assert needs_check("COD", True) and not needs_check("Prepaid", True) and not needs_check("COD", False)
