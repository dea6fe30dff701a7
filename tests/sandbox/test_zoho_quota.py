"""The Zoho simulator's API limits (zoho-api-facts §6): per-minute and per-day calls per organisation
answered with HTTP 429, the X-Rate-Limit-* headers, token calls outside both, and a scalable clock so a
benchmark can run Zoho's minute in a second. Shipbridge's client meets them as a retryable error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from app.integrations.http import RetryableUpstreamError
from sandbox.zoho import ZohoSim
from tests.sandbox.test_zoho_sim import INV, Client


@pytest.fixture
async def sim(zoho_sim: ZohoSim) -> ZohoSim:
    zoho_sim.reset()
    return zoho_sim


@pytest.fixture
async def zoho(sim: ZohoSim) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5) as http:  # type: ignore[attr-defined]
        yield Client(http, sim)


async def test_the_minute_limit_answers_429_and_frees_up_as_the_window_slides(zoho, sim):
    sim.quota.configure(per_minute=5, clock_scale=60)  # Zoho's minute in one real second
    answers = [(await zoho.call("GET", f"{INV}/items")).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    refused = await zoho.call("GET", f"{INV}/items")
    assert refused.status_code == 429 and refused.json()["code"] == 44 and "per minute" in refused.json()["message"]
    await zoho.grant()  # the token endpoint is not an API call
    await asyncio.sleep(1.05)
    assert (await zoho.call("GET", f"{INV}/items")).status_code == 200
    assert sim.quota.refused == 2


async def test_the_daily_quota_answers_429_and_reports_what_is_left(zoho, sim):
    sim.quota.configure(per_day=3)
    first = await zoho.call("GET", f"{INV}/items")
    assert first.headers["X-Rate-Limit-Limit"] == "3" and first.headers["X-Rate-Limit-Remaining"] == "2"
    assert 0 < int(first.headers["X-Rate-Limit-Reset"]) <= 86400
    await zoho.call("GET", f"{INV}/items")
    await zoho.call("GET", f"{INV}/items")
    over = await zoho.call("GET", f"{INV}/items")
    assert over.status_code == 429 and over.json()["code"] == 45 and "today" in over.json()["message"]
    assert over.headers["X-Rate-Limit-Remaining"] == "0"


async def test_limits_are_off_unless_configured(zoho, sim):
    assert all([(await zoho.call("GET", f"{INV}/items")).status_code == 200 for _ in range(30)])
    assert "X-Rate-Limit-Limit" not in (await zoho.call("GET", f"{INV}/items")).headers


async def test_shipbridge_meets_the_daily_refusal_as_retryable(svc, zoho_sim):
    zoho_sim.quota.configure(per_day=1)
    await svc.zoho.call("GET", f"{INV}/items")
    with pytest.raises(RetryableUpstreamError) as refused:
        await svc.zoho.call("GET", f"{INV}/items")
    assert refused.value.status == 429 and "today" in str(refused.value)
