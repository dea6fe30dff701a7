"""The naive durable webhook endpoint issue 9 measures Shipbridge's ingest against: FastAPI, the
authentication check, one asyncpg `INSERT ... ON CONFLICT DO NOTHING RETURNING id` (autocommit), one
arq enqueue, a JSON answer. No validation, no inbox record beyond (source, key, body).

Run by bench/ingest.py as `uvicorn bench.naive_app:app`; reads DATABASE_URL, REDIS_URL,
ZOHO_WEBHOOK_SECRET and SHIPROCKET_WEBHOOK_TOKEN from the environment."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from arq import create_pool
from arq.connections import RedisSettings
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SECRET = os.environ.get("ZOHO_WEBHOOK_SECRET", "").encode()
TOKEN = os.environ.get("SHIPROCKET_WEBHOOK_TOKEN", "").encode()
INSERT = ("INSERT INTO bench_naive_inbox (source, key, body) VALUES ($1, $2, $3) "
          "ON CONFLICT DO NOTHING RETURNING id")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.db = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=10, max_size=10)
    app.state.redis = await create_pool(RedisSettings.from_dsn(os.environ["REDIS_URL"]))
    yield
    await app.state.redis.aclose()
    await app.state.db.close()


app = FastAPI(lifespan=lifespan)


async def store(request: Request, source: str, key: Any, raw: bytes) -> JSONResponse:
    event_id = await request.app.state.db.fetchval(INSERT, source, str(key), raw)
    if event_id is not None:
        await request.app.state.redis.enqueue_job("bench_naive_job", event_id, _job_id=f"naive:{event_id}")
    return JSONResponse({"event_id": event_id, "duplicate": event_id is None})


@app.post("/webhooks/zoho/salesorders")
async def zoho(request: Request) -> JSONResponse:
    raw = await request.body()
    given = request.headers.get("x-zoho-webhook-signature", "").encode()
    if not hmac.compare_digest(given, hmac.new(SECRET, raw, hashlib.sha256).hexdigest().encode()):
        return JSONResponse({"detail": "bad signature"}, status_code=401)
    return await store(request, "zoho", json.loads(raw)["salesorder"]["salesorder_id"], raw)


def keyed(request: Request) -> bool:
    return hmac.compare_digest(request.headers.get("x-api-key", "").encode(), TOKEN)


@app.post("/webhooks/tracking")
async def tracking(request: Request) -> JSONResponse:
    if not keyed(request):
        return JSONResponse({"detail": "bad key"}, status_code=401)
    raw = await request.body()
    data = json.loads(raw)
    return await store(request, "tracking", f"{data['awb']}:{data['current_timestamp']}", raw)


@app.post("/webhooks/cod-remittance")
async def remittance(request: Request) -> JSONResponse:
    if not keyed(request):
        return JSONResponse({"detail": "bad key"}, status_code=401)
    raw = await request.body()
    return await store(request, "remittance", json.loads(raw)["remittance_id"], raw)
