"""Test equipment shared by the suites: settings pointing at the simulators, an in-process arq worker
over the real Redis, the API over ASGI, and `eventually` for waiting on asynchronous outcomes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from arq.worker import Worker

from app.queue import redis_settings
from app.services import Services

T = TypeVar("T")

WEBHOOK_SECRET = "zohoWebhookSecret123"
SHIPROCKET_WEBHOOK_TOKEN = "sr-hook-token-abc"
RETURNPRIME_WEBHOOK_KEY = "rp-hook-key-7f3a9c"
OPS_TOKEN = "ops-token-xyz"


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll until `check` returns something truthy; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


@asynccontextmanager
async def running_worker(svc: Services, *, cron: bool = False) -> AsyncIterator[Worker]:
    """A real arq worker in this event loop, consuming the real Redis queue."""
    from workers import main as worker_main

    worker = Worker(
        functions=worker_main.WorkerSettings.functions,
        cron_jobs=worker_main.WorkerSettings.cron_jobs if cron else None,
        redis_settings=redis_settings(svc.settings.REDIS_URL, fail_fast=False),
        ctx={"svc": svc},
        handle_signals=False,
        poll_delay=0.02,
        max_tries=worker_main.WorkerSettings.max_tries,
        keep_result=worker_main.WorkerSettings.keep_result,
        log_results=False,
    )
    task = asyncio.create_task(worker.async_run())
    try:
        yield worker
        # Let jobs in flight finish first: cancelling arq while a job writes its result raises
        # CancelledError out of the teardown.
        deadline = time.monotonic() + 10
        while any(not t.done() for t in worker.tasks.values()) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001
            pass
        await worker.close()


@asynccontextmanager
async def api_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shipbridge.test") as client:
            yield client
