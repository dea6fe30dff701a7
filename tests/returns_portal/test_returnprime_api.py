"""Return Prime's client against the simulator (which refuses what the real API refuses), the webhook
classifier and the request parser."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from app.integrations.http import PermanentUpstreamError, RetryPolicy, UpstreamAuthError
from app.integrations.returnprime.client import ReturnPrimeClient
from app.integrations.returnprime.models import parse_request
from app.returns_portal.endpoints import classify

FAST = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05)
ID = "6a7a004a55258d08a43604f2"


@pytest.fixture
async def http(returnprime_sim):
    returnprime_sim.reset()
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_token_is_sent_raw_in_x_rp_token(http, returnprime_sim):
    request = returnprime_sim.create_request("#77", [("SKU-1", 1, Decimal("10"))])
    good = ReturnPrimeClient(http, returnprime_sim.base_url, returnprime_sim.token, FAST)
    assert (await good.get_request(request["id"])).number == request["request_number"]
    with pytest.raises(UpstreamAuthError):
        await ReturnPrimeClient(http, returnprime_sim.base_url, "wrong", FAST).get_request(request["id"])
    bearer = await http.get(f"{returnprime_sim.base_url}/return-exchange/v2/{request['id']}",
                            headers={"Authorization": f"Bearer {returnprime_sim.token}"})
    assert bearer.status_code == 401


async def test_a_request_number_is_not_an_id(http, returnprime_sim):
    answer = await http.get(f"{returnprime_sim.base_url}/return-exchange/v2/RET777",
                            headers={"x-rp-token": returnprime_sim.token})
    assert answer.status_code == 412 and answer.json()["message_code"] == "GLOBAL_E2"
    client = ReturnPrimeClient(http, returnprime_sim.base_url, returnprime_sim.token, FAST)
    with pytest.raises(PermanentUpstreamError):
        await client.get_request("RET777")
    with pytest.raises(PermanentUpstreamError, match="not found"):
        await client.get_request(ID)  # a well-formed id Return Prime does not know


async def test_list_pages_through_the_date_window_and_survives_a_gateway_error(http, returnprime_sim):
    now = datetime.now(UTC)
    ids = {returnprime_sim.create_request(f"#{n}", [("SKU-1", 1, Decimal("10"))])["id"] for n in range(23)}
    returnprime_sim.create_request("#old", [("SKU-1", 1, Decimal("10"))], created_at=now - timedelta(days=90))
    returnprime_sim.faults.server_error("/return-exchange/v2", status=502)
    client = ReturnPrimeClient(http, returnprime_sim.base_url, returnprime_sim.token, FAST)
    found = [r.id async for r in client.list_requests(date.today() - timedelta(days=30),
                                                      date.today() + timedelta(days=1))]
    assert sorted(found) == sorted(ids)  # three pages, nothing twice, nothing outside the window


def test_webhook_takes_only_the_request_id_from_the_body():
    for body in ({"request": {"id": ID}}, {"id": ID}, {"data": {"request": {"id": ID}}}, {"data": {"id": ID}}):
        delivery = classify(json.dumps(body).encode(), "application/json")
        assert delivery.state == "pending" and delivery.subject == ID
    raw = json.dumps({"request": {"id": ID}, "topic": "request/approved"}).encode()
    assert classify(raw, "application/json").dedupe_key == classify(raw, "application/json").dedupe_key
    for bad in (b"", b"[]", b'{"request": {"id": "RET777"}}', b'{"topic": "request/created"}', b"not json"):
        assert classify(bad, "application/json").state == "invalid"


def test_request_state_comes_from_the_lifecycle_flags():
    base = {"id": ID, "request_number": "RET1", "request_type": "exchange", "order": {"id": 1, "name": "#1"},
            "line_items": [{"id": 99, "quantity": 2, "reason": "Others", "reason_detail": "too small",
                            "original_product": {"sku": "S1", "price": "499.00"},
                            "shipping": [{"awb": "", "shipping_company": ""},
                                         {"awb": "123", "shipping_company": "X"}]}]}
    request = parse_request({**base, "approved": {"status": True}, "rejected": {"status": False}})
    assert request.actionable and request.kind == "exchange"
    [line] = request.lines
    assert line.quantity == 2 and line.price == Decimal("499.00") and line.awb == "123" and line.reason == "too small"
    assert not parse_request({**base, "approved": {"status": True}, "reject": {"status": True}}).actionable
    assert not parse_request({**base, "status": "approved"}).actionable  # the status text alone is not trusted
