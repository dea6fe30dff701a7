"""The webhook endpoints against hostile bodies, through the real app and Postgres: whatever an
authenticated body holds is stored raw and answered 200 (kept as invalid when it cannot be used), an
unauthenticated or oversized one is refused and stored nowhere, and neither costs memory."""

from __future__ import annotations

import hashlib
import hmac
import json
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import select, text

from app.main import create_app
from app.models import InboxEvent, InboxState
from app.services import Services
from app.web.inbound import Delivery
from app.webhooks.ingest import MAX_BODY_BYTES
from tests.harness import SHIPROCKET_WEBHOOK_TOKEN, WEBHOOK_SECRET, api_client

ZOHO = "/webhooks/zoho/salesorders"
TRACKING = "/webhooks/tracking"
REMITTANCE = "/webhooks/cod-remittance"


@pytest.fixture
async def client(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(create_app(svc.settings, svc)) as c:
        yield c


def signed(raw: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json",
            "X-Zoho-Webhook-Signature": hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()}


KEYED = {"Content-Type": "application/json", "x-api-key": SHIPROCKET_WEBHOOK_TOKEN}


def auth_for(path: str, raw: bytes) -> dict[str, str]:
    return signed(raw) if path == ZOHO else KEYED


async def stored(svc: Services) -> list[InboxEvent]:
    async with svc.sessionmaker() as s:
        return list((await s.scalars(select(InboxEvent).order_by(InboxEvent.id))).all())


async def queued_jobs(svc: Services) -> list[bytes]:
    client = aioredis.Redis.from_url(svc.settings.REDIS_URL)
    try:
        return await client.zrange("arq:queue", 0, -1)
    finally:
        await client.aclose()


def so_body(**fields: Any) -> dict[str, Any]:
    return {"salesorder": {"salesorder_id": "4600000000000000001", "status": "confirmed",
                           "last_modified_time": "2026-11-20T10:00:00+0530", **fields}}


def tracking_body(**fields: Any) -> dict[str, Any]:
    return {"awb": "190410000001", "current_status": "IN TRANSIT", "current_status_id": 20,
            "shipment_status": "In Transit", "shipment_status_id": 18, "current_timestamp": "20 11 2026 10:00:00",
            **fields}


def remittance_body(**fields: Any) -> dict[str, Any]:
    return {"remittance_id": "CRF0001", "remittance_date": "2026-11-20", "bank_transfer_amount": "962.00",
            "orders": [{"awb": "190410000001", "order_id": "SO-1", "cod_amount": "998.00",
                        "deducted_charges": "36.00"}], **fields}


DEEP = b'{"salesorder": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
HUGE_INT = b'{"salesorder": {"salesorder_id": ' + b"9" * 5000 + b', "status": "confirmed"}}'
NUL = json.dumps(so_body(customer_name="Priya\u0000Sharma")).encode()
SURROGATE = b'{"salesorder": {"salesorder_id": "1", "status": "confirmed", "notes": "\\udc80"}}'
LONG_ID = json.dumps(so_body(salesorder_id="7" * 150)).encode()

HOSTILE = [
    (ZOHO, json.dumps(so_body(salesorder_id={"id": 1})).encode(), "salesorder_id is a dict"),
    (ZOHO, json.dumps(so_body(salesorder_id=[1])).encode(), "salesorder_id is a list"),
    (ZOHO, json.dumps(so_body(salesorder_id=True)).encode(), "salesorder_id is a bool"),
    (ZOHO, DEEP, "nests"),
    (ZOHO, HUGE_INT, "number too long"),
    (ZOHO, NUL, "NUL"),
    (ZOHO, SURROGATE, "lone surrogate"),
    (ZOHO, LONG_ID, "longer than 40"),
    (TRACKING, json.dumps(tracking_body(current_timestamp="01 01 0001 00:00:00")).encode(), "out of range"),
    (TRACKING, json.dumps(tracking_body(awb="1" * 150)).encode(), "longer than 60"),
    (TRACKING, json.dumps(tracking_body(scan_location="Pune\u0000")).encode(), "NUL"),
    (TRACKING, json.dumps(tracking_body(shipment_status_id=10**12)).encode(), "out of range"),
    (TRACKING, b"[" * 10_000 + b"]" * 10_000, "nests"),
    (TRACKING, b'{"awb": 1e400}', "out of range"),
    (REMITTANCE, json.dumps(remittance_body(bank_transfer_amount=1e30)).encode(), "larger than"),
    (REMITTANCE, json.dumps(remittance_body(bank_transfer_amount="100000000000.00")).encode(), "larger than"),
    (REMITTANCE, json.dumps(remittance_body(remittance_date="0001-01-01")).encode(), "out of range"),
    (REMITTANCE, json.dumps(remittance_body(remittance_id="CRF\u0000")).encode(), "NUL"),
    (REMITTANCE, b'{"remittance_id": "1", "orders": [], "bank_transfer_amount": NaN}', "NaN"),
]


@pytest.mark.parametrize(("path", "raw", "reason"), HOSTILE, ids=[f"{p.split('/')[-1]}-{r}" for p, _, r in HOSTILE])
async def test_hostile_bodies_are_kept_as_invalid_and_answered_200(svc, client, path, raw, reason):
    response = await client.post(path, content=raw, headers=auth_for(path, raw))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] is False and answer["state"] == InboxState.invalid
    assert reason in answer["reason"]
    [event] = await stored(svc)
    assert event.state == InboxState.invalid and reason in (event.reason or "")
    assert event.body == raw and event.processed_at is not None
    assert await queued_jobs(svc) == []


@pytest.mark.parametrize(("path", "raw"), [
    (ZOHO, json.dumps(so_body()).encode()),
    (TRACKING, json.dumps(tracking_body()).encode()),
    (REMITTANCE, json.dumps(remittance_body()).encode()),
])
async def test_good_delivery_stored_once_queued_once_and_its_duplicate_recognised(svc, client, path, raw):
    first = (await client.post(path, content=raw, headers=auth_for(path, raw))).json()
    again = (await client.post(path, content=raw, headers=auth_for(path, raw))).json()
    assert first["accepted"] is True and first["state"] == InboxState.pending and first["duplicate"] is False
    assert again["duplicate"] is True and again["event_id"] == first["event_id"]
    [event] = await stored(svc)
    assert event.body == raw and event.subject and event.enqueued_at is not None and event.attempts == 0
    assert await queued_jobs(svc) == [f"inbox:{event.id}".encode()]


async def test_a_delivery_postgres_refuses_is_kept_as_invalid_not_503(svc, client):
    """Whatever slips past the parsers and is refused by Postgres for its data is not an outage."""
    app_ingest = client._transport.app.state.ingest  # type: ignore[attr-defined]
    odd = Delivery("a-state-wider-than-its-column", None, "subject", "key-1")
    result = await app_ingest.writer.store("zoho_salesorder", odd, b"{}", "application/json")
    [event] = await stored(svc)
    assert (result.event_id, result.state) == (event.id, InboxState.invalid)
    assert "could not be stored as sent" in (event.reason or "") and event.body == b"{}"


@pytest.mark.parametrize(("path", "headers"), [
    (ZOHO, {"X-Zoho-Webhook-Signature": "0" * 64}),
    (ZOHO, {}),
    (TRACKING, {"x-api-key": "wrong"}),
    (REMITTANCE, {}),
])
async def test_unauthenticated_requests_are_refused_and_stored_nowhere(svc, client, path, headers):
    raw = json.dumps(so_body() if path == ZOHO else tracking_body()).encode()
    response = await client.post(path, content=raw, headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    assert await stored(svc) == []


def chunks(total: int, size: int = 64 * 1024) -> Any:
    block = b"x" * size

    async def gen() -> AsyncIterator[bytes]:
        for _ in range(total // size):
            yield block  # the same object every time: the sender itself holds 64 KB

    return gen()


@pytest.mark.parametrize("path", [ZOHO, TRACKING])
async def test_oversized_bodies_are_refused_without_being_held(svc, client, path):
    """A 50 MB chunked body (no Content-Length) and a declared 300 MB one, unsigned: refused, stored
    nowhere, and the app never holds more than the 1 MB cap of either."""
    headers = {"Content-Type": "application/json"} | ({"x-api-key": SHIPROCKET_WEBHOOK_TOKEN}
                                                     if path == TRACKING else {})
    tracemalloc.start()
    try:
        streamed = await client.post(path, content=chunks(50 * 1024 * 1024), headers=headers)
        declared = await client.post(path, content=chunks(1024 * 1024),
                                     headers=headers | {"Content-Length": str(300 * 1024 * 1024)})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert streamed.status_code == 413 and declared.status_code == 413
    assert peak < MAX_BODY_BYTES + 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert await stored(svc) == []


async def test_key_is_checked_before_the_body_is_read(svc, client):
    """Without the key, not a byte of the body is read: a huge body costs nothing."""
    tracemalloc.start()
    try:
        response = await client.post(TRACKING, content=chunks(50 * 1024 * 1024),
                                     headers={"Content-Type": "application/json"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 401 and peak < 2 * 1024 * 1024


async def test_trailing_slash_and_wrong_method(svc, client):
    raw = json.dumps(tracking_body()).encode()
    assert (await client.post(TRACKING + "/", content=raw, headers=KEYED)).json()["accepted"] is True
    assert (await client.get(TRACKING)).status_code == 405


async def test_connections_killed_under_the_pool_are_replaced(svc, client):
    """A Postgres restart (here: every other backend terminated) must not fail the next delivery: there
    is no ping per checkout, so the writer has to notice or retry by itself."""
    first = json.dumps(tracking_body()).encode()
    assert (await client.post(TRACKING, content=first, headers=KEYED)).status_code == 200
    async with svc.engine.connect() as conn:
        killed = (await conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))).scalar_one()
    assert killed >= 1
    second = json.dumps(tracking_body(current_timestamp="20 11 2026 11:00:00")).encode()
    response = await client.post(TRACKING, content=second, headers=KEYED)
    assert response.status_code == 200 and response.json()["accepted"] is True
    assert len(await stored(svc)) == 2
