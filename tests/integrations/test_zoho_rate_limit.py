"""All processes share one Zoho call budget through Redis; without Redis they still call Zoho."""

import asyncio
import time
import uuid

from app.integrations.zoho.rate_limit import ZohoRateLimiter
from app.queue import Queue
from app.services import build_services
from sandbox.server import free_port
from tests.spine_helpers import confirmed_order


async def test_two_processes_share_one_budget(svc, zoho_sim):
    so_ids = [confirmed_order(zoho_sim) for _ in range(10)]
    narrow = svc.settings.model_copy(update={"ZOHO_MAX_CALLS_PER_WINDOW": 4, "ZOHO_RATE_WINDOW_SECONDS": 1.0})
    first, second = (build_services(narrow, engine=svc.engine) for _ in range(2))
    await first.zoho.token.get()  # token fetched up front: only API calls count against the budget
    try:
        started = time.monotonic()
        await asyncio.gather(*(proc.zoho.get_salesorder(so_id)
                               for so_id, proc in zip(so_ids, [first, second] * 5, strict=True)))
        elapsed = time.monotonic() - started
    finally:
        for proc in (first, second):
            await proc.queue.close()
            await proc.http.aclose()
    # 10 calls at 4 per 1-second window need three windows: at least two boundaries crossed.
    assert elapsed > 1.0
    assert first.zoho.limiter.waited + second.zoho.limiter.waited > 0
    times = sorted(t for (method, path), t in zip(zoho_sim.calls, zoho_sim.call_times, strict=True)
                   if method == "GET" and "/salesorders/" in path)
    assert len(times) == 10  # every call was made, none dropped
    # At most 4 per window, so any 9 consecutive calls straddle three windows: more than one window
    # apart (less a little network jitter between taking a slot and reaching Zoho).
    assert all(times[i + 8] - times[i] > 0.9 for i in range(len(times) - 8))


async def test_limiter_fails_open_without_redis():
    limiter = ZohoRateLimiter(Queue(f"redis://127.0.0.1:{free_port()}/0"), "org", limit=1, window_seconds=60)
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire()
    assert time.monotonic() - started < 5 and limiter.waited == 0


# --- Priority: status labels yield to AWB and money writes (issue 9, end-to-end p99) ---

async def test_a_label_takes_only_its_share_of_a_quarter_and_never_waits(redis_url):
    # 32 a window: quarters of 8 calls; labels only while fewer than 2 are used.
    limiter = ZohoRateLimiter(Queue(redis_url), f"org-{uuid.uuid4()}", limit=32, window_seconds=600)
    try:
        assert await limiter.try_acquire_cosmetic() and await limiter.try_acquire_cosmetic()
        assert not await limiter.try_acquire_cosmetic()  # the labels' share is spent: refused at once
        assert limiter.cosmetic_refused == 1
        pool = await limiter._queue.pool()
        for n in range(6):  # AWB writes still have the rest of the quarter, without waiting
            await limiter.acquire()
            # Until an AWB write takes one of the quarter's last two calls, the next quarter is open to labels.
            assert bool(await pool.exists(limiter.busy_key)) == (n >= 4)
        assert limiter.waited == 0
    finally:
        await limiter._queue.close()


async def test_labels_stand_aside_while_awb_writes_fill_the_quarters(redis_url):
    # Quarters of a quarter second, 8 calls each (labels while fewer than 2 are used).
    limiter = ZohoRateLimiter(Queue(redis_url), f"org-{uuid.uuid4()}", limit=32, window_seconds=1.0)
    try:
        for _ in range(40):  # until one finds its quarter full and waits for the next (the ninth, or later
            await limiter.acquire()  # if a quarter turned meanwhile)
            if limiter.waited:
                break
        assert limiter.waited > 0
        # The new quarter holds one call, so a label would fit its share; but AWB writes filled the last one.
        assert not await limiter.try_acquire_cosmetic()
        pool = await limiter._queue.pool()
        assert await pool.exists(limiter.busy_key)
        await pool.delete(limiter.busy_key)  # the flag lapses (two quarters) once AWB writes ease off
        assert await limiter.try_acquire_cosmetic()
    finally:
        await limiter._queue.close()


async def test_without_redis_labels_are_not_refused():
    limiter = ZohoRateLimiter(Queue(f"redis://127.0.0.1:{free_port()}/0"), "org", limit=16, window_seconds=60)
    assert await limiter.try_acquire_cosmetic() and limiter.cosmetic_refused == 0
