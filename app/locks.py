"""Postgres advisory locks: the one way Shipbridge keeps two jobs (in any process) off the same work.

Session-level locks on a connection of their own, so they outlive the job's short transactions; freed on
exit, or by Postgres itself when the process holding them dies, so a killed worker never blocks work."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# The job runner retries a RetryableUpstreamError later (app.jobs), which is what a busy order wants.
from app.integrations.http import RetryableUpstreamError

# How long a job waits for an order lock another job holds before it gives up with OrderBusy.
LOCK_WAIT_SECONDS = 20.0


def lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def order_lock_name(salesorder_id: str) -> str:
    # Fulfilment and tracking share it: both write the order's cf_shipment_status, and fulfilment's
    # "AWB Assigned" must never land after tracking's first status.
    return f"order:{salesorder_id}"


class OrderBusy(RetryableUpstreamError):
    """Another job held the order for longer than we wait (e.g. a return being booked with Shiprocket):
    the inbox job is retried later rather than leaving its event unapplied. Tracking and fulfilment's
    cancel both raise it."""

    def __init__(self, salesorder_id: str) -> None:
        super().__init__("shipbridge", f"sales order {salesorder_id} busy for {LOCK_WAIT_SECONDS:g}s")


@asynccontextmanager
async def advisory_lock(engine: AsyncEngine, name: str, wait: float = 0.0) -> AsyncIterator[bool]:
    """Yields whether the lock is held; tries for up to `wait` seconds (0: a single try)."""
    key = lock_key(name)
    async with engine.connect() as conn:
        deadline = time.monotonic() + wait
        while True:
            held = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            await conn.commit()
            if held or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.1)
        try:
            yield held
        finally:
            if held:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
