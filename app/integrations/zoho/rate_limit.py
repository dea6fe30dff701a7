"""One Zoho call budget for every Shipbridge process: a fixed-window counter in Redis per organisation.

Zoho allows about 100 API calls a minute per organisation, shared with every other app connected to it,
and answers 429 past that. Waiting for our own turn is cheaper than spending calls on 429s, and a burst
of tracking webhooks or a large remittance must not starve the seller's other integrations. If Redis is
unreachable the limiter lets calls through: Zoho's own 429 (with Retry-After) is still honoured.

The window is counted in SLOTS quarters of `limit / SLOTS` calls each: a plain fixed window lets `limit`
calls through at the end of one window and `limit` more at the start of the next, twice the rate over
any minute that straddles them, and Zoho may well count a sliding minute. With quarters, any window's
length of time holds at most (SLOTS + 1) / SLOTS x limit: 100 for the default 80, Zoho's own limit.

Two priorities share each quarter. AWB write-backs, stock and money writes (`acquire`) may take the whole
quarter and wait for the next one when it is spent; cosmetic writes (status labels, `try_acquire_cosmetic`)
may take calls only while less than COSMETIC_SHARE of it is used, none while AWB and money calls fill
quarters (one waited, or took one of the last COSMETIC_SHARE of a quarter), and never wait: refused, the
caller parks the label in `zoho_deferred_writes` (budget.py) and a worker job writes it later. So a label can
delay an AWB by at most a quarter's cosmetic share, never by a queue of labels. The price: labels parked by
a backlog are written at most at that share of the window (20 a minute at the default 80) once the AWBs are
through."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from app.queue import Queue

log = logging.getLogger(__name__)
SLOTS = 4
# A label goes only while the quarter has used less than this share of its calls (AWB writes included), so
# at least the rest is left for AWB and money writes arriving later in the quarter. A quarter, not a half:
# one order's AWB and label at 80 orders a minute would otherwise fill a quarter with labels first.
COSMETIC_SHARE = 0.25

# Take one call of the quarter unless `cap` are already taken (atomic, so two processes never both take
# the last one). Returns the calls taken after this one, or -1 when the quarter is full for this caller.
# An AWB or money call that finds the quarter full, or takes one of its last `ARGV[4]` calls, raises the
# "busy" flag (KEYS[2]) for two quarters; while it is up no label is let through, so under sustained AWB
# load labels stand aside entirely instead of taking calls a later AWB of the quarter will need.
# KEYS[3], when given, is also counted for every call taken (the day's budget, budget.py), expiring ARGV[5]
# seconds after its first: counting the day in the same script saves every Zoho call a Redis round trip.
_TAKE = """
local cosmetic = ARGV[3] == '1'
if cosmetic and redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then
  if not cosmetic then redis.call('SET', KEYS[2], '1', 'EX', ARGV[2]) end
  return -1
end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if KEYS[3] and redis.call('INCR', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], ARGV[5]) end
if not cosmetic and used > tonumber(ARGV[1]) - tonumber(ARGV[4]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
end
return used
"""


class ZohoWindowBusy(Exception):
    """A cosmetic Zoho write found the current quarter's cosmetic share spent: defer it, don't wait."""


@dataclass(frozen=True)
class AlsoCount:
    """A counter the limiter increments with each call it lets through (the day's Zoho budget), in the
    same round trip; it expires `ttl` seconds after its first call."""

    key: str
    ttl: int


class ZohoRateLimiter:
    def __init__(self, queue: Queue, organization_id: str, limit: int, window_seconds: float) -> None:
        self._queue = queue
        self._prefix = f"shipbridge:zoho-calls:{organization_id}"
        # Up while AWB or money calls fill quarters: one waited, or took one of a quarter's last calls.
        self.busy_key = f"{self._prefix}:busy"
        self.limit = limit
        self.window = window_seconds
        slots = SLOTS if limit >= SLOTS else 1
        self._slot_limit = limit // slots
        # At least one, or a tiny limit would defer every label forever (then labels have no lower priority).
        self._cosmetic_limit = max(1, int(self._slot_limit * COSMETIC_SHARE))
        self._slot_seconds = window_seconds / slots
        self._ttl = max(1, math.ceil(self._slot_seconds * 2))
        self.waited = 0.0  # seconds this process spent waiting for a slot (for tests and metrics)
        self.cosmetic_refused = 0  # labels this process was told to defer (for tests and metrics)

    @property
    def on(self) -> bool:
        """False when ZOHO_MAX_CALLS_PER_WINDOW is 0: every call goes at once, and nothing is counted here."""
        return self.limit > 0

    async def _take(self, window_id: int, cap: int, cosmetic: bool = False,
                    count: AlsoCount | None = None) -> int | None:
        """Calls taken in quarter `window_id` with this one, -1 if full for `cap`, None without Redis.
        A call taken is also counted under `count`."""
        keys = [f"{self._prefix}:{window_id}", self.busy_key] + ([count.key] if count is not None else [])
        try:
            pool = await self._queue.pool()
            return int(await pool.eval(_TAKE, len(keys), *keys,  # type: ignore[misc]
                                       str(cap), str(self._ttl), "1" if cosmetic else "0",
                                       str(self._cosmetic_limit), str(count.ttl if count is not None else 0)))
        except (RedisError, OSError, ConnectionError) as exc:
            log.warning("Zoho rate limiter unavailable (%s); calling without it", type(exc).__name__)
            return None

    def seconds_to_next_quarter(self) -> float:
        return self._slot_seconds - time.time() % self._slot_seconds

    async def try_acquire_cosmetic(self, count: AlsoCount | None = None) -> bool:
        """Take a call for a status label if the quarter's cosmetic share has room and no AWB or money
        call is waiting for one; never waits itself. A call taken is also counted under `count`."""
        if self.limit <= 0:
            return True
        if await self._take(int(time.time() // self._slot_seconds), self._cosmetic_limit, cosmetic=True,
                            count=count) == -1:
            self.cosmetic_refused += 1
            return False
        return True

    async def acquire(self, count: AlsoCount | None = None) -> None:
        """Return once this call fits in the current window's budget; the call taken is also counted under
        `count` (only once, however long it waited)."""
        if self.limit <= 0:
            return
        while True:
            now = time.time()
            window_id = int(now // self._slot_seconds)
            if await self._take(window_id, self._slot_limit, count=count) != -1:
                return
            # Over budget: sleep to the next slot (jittered, so waiting processes don't stampede).
            pause = (window_id + 1) * self._slot_seconds - now + random.uniform(0, min(0.25, self._slot_seconds / 10))
            self.waited += pause
            await asyncio.sleep(pause)
