"""All processes share one Zoho call budget through Redis; without Redis they still call Zoho."""

import asyncio
import time

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
