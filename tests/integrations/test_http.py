"""The shared request policy against a live simulator: what is retried, and what is not."""

import httpx
import pytest

from app.integrations.http import RetryableUpstreamError, RetryPolicy, request_with_retries

POLICY = RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.01)


async def test_uncertain_write_is_not_retried_but_429_is(zoho_sim, clean):
    url = f"{zoho_sim.base_url}/books/v3/customerpayments"
    async with httpx.AsyncClient() as client:
        zoho_sim.faults.server_error("/books/v3/customerpayments", status=502, times=1)
        with pytest.raises(RetryableUpstreamError) as exc:
            await request_with_retries(client, "zoho", "POST", url, policy=POLICY, json_body={},
                                       retry_uncertain=False)
        assert exc.value.status == 502
        zoho_sim.faults.rate_limit("/books/v3/customerpayments", retry_after=0, times=1)
        response = await request_with_retries(client, "zoho", "POST", url, policy=POLICY, json_body={},
                                              retry_uncertain=False)
        assert response.status_code != 429  # retried past the 429 to the real answer
    posts = [c for c in zoho_sim.calls if c == ("POST", "/books/v3/customerpayments")]
    assert len(posts) == 3  # the 502 once, then the 429 and its retry


async def test_safe_calls_retry_5xx_then_give_up_with_the_message(zoho_sim, clean):
    url = f"{zoho_sim.base_url}/inventory/v1/items"
    async with httpx.AsyncClient() as client:
        zoho_sim.faults.server_error("/inventory/v1/items", status=503, times=10)
        with pytest.raises(RetryableUpstreamError, match="503 Service Temporarily Unavailable"):
            await request_with_retries(client, "zoho", "GET", url, policy=POLICY)
    assert sum(1 for c in zoho_sim.calls if c[1] == "/inventory/v1/items") == 4
