"""One Zoho call budget for every Shipbridge process: a fixed-window counter in Redis per organisation.

Zoho allows about 100 API calls a minute per organisation, shared with every other app connected to it,
and answers 429 past that. Waiting for our own turn is cheaper than spending calls on 429s, and a burst
of tracking webhooks or a large remittance must not starve the seller's other integrations. If Redis is
unreachable the limiter lets calls through: Zoho's own 429 (with Retry-After) is still honoured.

The window is counted in SLOTS quarters of `limit / SLOTS` calls each: a plain fixed window lets `limit`
calls through at the end of one window and `limit` more at the start of the next, twice the rate over
any minute that straddles them, and Zoho may well count a sliding minute. With quarters, any window's
length of time holds at most (SLOTS + 1) / SLOTS x limit: 100 for the default 80, Zoho's own limit."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time

from redis.exceptions import RedisError

from app.queue import Queue

log = logging.getLogger(__name__)
SLOTS = 4


class ZohoRateLimiter:
    def __init__(self, queue: Queue, organization_id: str, limit: int, window_seconds: float) -> None:
        self._queue = queue
        self._prefix = f"shipbridge:zoho-calls:{organization_id}"
        self.limit = limit
        self.window = window_seconds
        slots = SLOTS if limit >= SLOTS else 1
        self._slot_limit = limit // slots
        self._slot_seconds = window_seconds / slots
        self.waited = 0.0  # seconds this process spent waiting for a slot (for tests and metrics)

    async def acquire(self) -> None:
        """Return once this call fits in the current window's budget."""
        if self.limit <= 0:
            return
        while True:
            now = time.time()
            window_id = int(now // self._slot_seconds)
            key = f"{self._prefix}:{window_id}"
            try:
                pool = await self._queue.pool()
                used = int(await pool.incr(key))
                if used == 1:
                    await pool.expire(key, max(1, math.ceil(self._slot_seconds * 2)))
            except (RedisError, OSError, ConnectionError) as exc:
                log.warning("Zoho rate limiter unavailable (%s); calling without it", type(exc).__name__)
                return
            if used <= self._slot_limit:
                return
            # Over budget: sleep to the next slot (jittered, so waiting processes don't stampede).
            pause = (window_id + 1) * self._slot_seconds - now + random.uniform(0, min(0.25, self._slot_seconds / 10))
            self.waited += pause
            await asyncio.sleep(pause)
