"""One domain-error class, one handler: every refusal of the ops API has the same shape, whichever domain
raised it, with its own status."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.errors import DomainError, NotFound, UpstreamUnavailable, domain_error
from app.services import Services
from app.tracking.returns import ReturnRefused
from tests.ops.helpers import BEARER, ops_client


@pytest.mark.parametrize(("path", "message"), [
    ("/ops/remittances/9999", "no remittance 9999"),
    ("/ops/tracking/NOSUCHAWB1", "unknown AWB NOSUCHAWB1"),
    ("/ops/returns/424242", "no customer return 424242"),
    ("/ops/orders/4815000000000099999", "no order 4815000000000099999 known"),
])
async def test_missing_things_answer_one_shape(svc: Services, path: str, message: str) -> None:
    async with ops_client(svc) as client:
        answer = await client.get(path, headers={**BEARER, "Accept": "application/json"})
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": message}


async def test_unknown_order_action_is_a_404_through_the_handler(svc: Services) -> None:
    async with ops_client(svc) as client:
        answer = await client.post("/ops/orders/4815000000000099999/teleport", headers=BEARER, json={})
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    assert "teleport" in answer.json()["detail"]


async def test_handler_renders_status_code_and_detail_fields() -> None:
    app = FastAPI()
    app.add_exception_handler(DomainError, domain_error)

    @app.get("/busy")
    async def busy() -> None:
        raise UpstreamUnavailable("Zoho timed out", retryable=True, detail={"salesorder_id": "1"})

    @app.get("/gone")
    async def gone() -> None:
        raise UpstreamUnavailable("Shiprocket said no", retryable=False)

    @app.get("/refused")
    async def refused() -> None:
        raise ReturnRefused(409, "only a delivered order can be returned")

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        busy_answer, gone_answer, refused_answer = (await client.get("/busy"), await client.get("/gone"),
                                                    await client.get("/refused"))
    assert busy_answer.status_code == 503
    assert busy_answer.json() == {"salesorder_id": "1", "error": "upstream_failed", "detail": "Zoho timed out"}
    assert gone_answer.status_code == 502
    assert refused_answer.status_code == 409 and refused_answer.json()["error"] == "return_refused"
    assert isinstance(NotFound("x"), DomainError) and NotFound("x").status == 404
