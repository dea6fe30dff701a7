"""Zoho's daily API quota treated as the seller's capacity: every Zoho call any Shipbridge process makes
is counted per organisation per Zoho day in Redis; near the end of the day's budget, cosmetic writes
(intermediate status labels) are parked in Postgres, one row per sales order, and written after the reset.

Money, AWB and stock writes are never deferred: only callers of `write_status_fields` (labels) are.
The day is counted in ZOHO_QUOTA_TIMEZONE (default Asia/Kolkata: an Indian organisation's day; Zoho does
not say more than "per day", see docs/BENCHMARKS.md). If Redis is lost, the count restarts at 0 for the
rest of that day: the budget is then spent optimistically, and Zoho's own refusal still protects it.

The same parking serves the per-minute limiter: a label that finds the rate window busy with AWB and money
writes (rate_limit.py) is deferred here too, and the worker's flush job writes it within an interval or two.

This module knows the Zoho client only by the `LabelWriter` shape it uses (no import of client.py or
Services: client.py imports this module)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.integrations.zoho.models import ZohoDeferredWrite
from app.integrations.zoho.rate_limit import AlsoCount, ZohoRateLimiter, ZohoWindowBusy
from app.queue import Queue

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

# Books' calls per day per plan (zoho-api-facts §6; Inventory's are similar or higher).
PLAN_DAILY_CALLS = {"free": 1000, "standard": 2000, "professional": 5000, "premium": 10000, "elite": 10000,
                    "ultimate": 10000}
KEY_TTL_SECONDS = 3 * 86400  # long enough to read yesterday's figure; short enough to clean itself up
FLUSH_BATCH = 200
# Zoho's own figure of what is left today is stored again only once it moved this share of the budget (or
# nears the reserve, where it decides): a Redis write per call would buy nothing the next one won't tell.
OBSERVE_STEP_FRACTION = 0.01

# INCRBY, and the expiry on the day's first call, in one round trip (the limiter's script does the same
# when it is on: rate_limit.py).
_SPEND = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return used
"""


@dataclass(frozen=True)
class ZohoUsage:
    day: date  # Zoho's day, in ZOHO_QUOTA_TIMEZONE
    used: int  # calls counted today by every Shipbridge process
    budget: int  # the day's budget (ZOHO_DAILY_BUDGET, or the plan's)
    deferred_pending: int  # cosmetic writes waiting for the reset
    reserve: int = 0  # within this many calls of the budget, cosmetic writes are deferred
    zoho_remaining: int | None = None  # what Zoho itself last said is left today (every app's calls), if it says

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.used)

    @property
    def deferring(self) -> bool:
        return deferring(self.budget, self.reserve, self.used, self.zoho_remaining)


def deferring(budget: int, reserve: int, used: int, zoho_remaining: int | None) -> bool:
    """The one rule (ops' view and the writers both read it): cosmetic writes wait for tomorrow's quota
    once ours is within `reserve` of spent, or Zoho itself says so. A budget of 0 means no budget."""
    return budget > 0 and (used >= budget - reserve or (zoho_remaining is not None and zoho_remaining <= reserve))


def daily_budget(settings: Settings) -> int:
    if settings.ZOHO_DAILY_BUDGET > 0:
        return settings.ZOHO_DAILY_BUDGET
    return PLAN_DAILY_CALLS.get(settings.ZOHO_PLAN.strip().lower(), PLAN_DAILY_CALLS["professional"])


class ZohoDailyBudget:
    """The shared per-day counter. `spend` is called once per Zoho API request (token calls excluded:
    they go to accounts.zoho.*, which has its own limit)."""

    def __init__(self, queue: Queue, organization_id: str, budget: int, reserve_fraction: float,
                 timezone: str) -> None:
        self._queue = queue
        self._prefix = f"shipbridge:zoho-day:{organization_id}"
        self.budget = budget
        self.reserve = int(budget * reserve_fraction)
        self.tz = ZoneInfo(timezone)
        self._observe_step = max(1, int(budget * OBSERVE_STEP_FRACTION))
        self._observed: tuple[str, int] | None = None  # (key, value) this process last stored

    @classmethod
    def from_settings(cls, queue: Queue, settings: Settings) -> ZohoDailyBudget:
        return cls(queue, settings.ZOHO_ORGANIZATION_ID, daily_budget(settings),
                   settings.ZOHO_BUDGET_RESERVE_FRACTION, settings.ZOHO_QUOTA_TIMEZONE)

    def day(self, now: datetime | None = None) -> date:
        return (now or datetime.now(UTC)).astimezone(self.tz).date()

    def _key(self, day: date) -> str:
        return f"{self._prefix}:{day.isoformat()}"

    def counter(self) -> AlsoCount:
        """Today's counter, for the rate limiter to count each call it lets through (the client's usual
        path: one round trip for both); `spend` is the same count on its own."""
        return AlsoCount(self._key(self.day()), KEY_TTL_SECONDS)

    async def spend(self, calls: int = 1) -> None:
        try:
            pool = await self._queue.pool()
            await pool.eval(_SPEND, 1, self._key(self.day()), str(calls), str(KEY_TTL_SECONDS))  # type: ignore[misc]
        except (RedisError, OSError, ConnectionError) as exc:
            log.warning("Zoho daily counter unavailable (%s); call not counted", type(exc).__name__)

    async def observe(self, headers: Mapping[str, str]) -> None:
        """Zoho's own count (X-Rate-Limit-Remaining on its replies) includes the seller's other apps:
        remember the latest, so the budget also stops when they, not we, have spent the day. Stored when
        it moved OBSERVE_STEP_FRACTION of the budget since this process last stored it, or is within that
        of the reserve (where `deferring` turns on it): exact where it decides, a write per ~1 % of the
        day's calls elsewhere instead of one per call."""
        remaining = headers.get("X-Rate-Limit-Remaining")
        if remaining is None or not remaining.strip().isdigit():
            return
        value, key = int(remaining), self._remaining_key(self.day())
        last = self._observed
        if (last is not None and last[0] == key and abs(last[1] - value) < self._observe_step
                and value > self.reserve + self._observe_step):
            return
        try:
            pool = await self._queue.pool()
            await pool.set(key, value, ex=KEY_TTL_SECONDS)
        except (RedisError, OSError, ConnectionError):
            return
        self._observed = (key, value)

    def _remaining_key(self, day: date) -> str:
        return f"{self._key(day)}:zoho-remaining"

    async def figures(self) -> tuple[int, int | None]:
        """Today's (calls counted, Zoho's own remaining if it said), in one read. Redis unreachable: (0, None),
        nothing spent as far as anyone can tell (the budget is then spent optimistically)."""
        day = self.day()
        try:
            pool = await self._queue.pool()
            used, remaining = await pool.mget(self._key(day), self._remaining_key(day))
        except (RedisError, OSError, ConnectionError):
            return 0, None
        return int(used or 0), int(remaining) if remaining is not None else None

    async def zoho_remaining(self) -> int | None:
        return (await self.figures())[1]

    async def used(self, day: date | None = None) -> int:
        try:
            pool = await self._queue.pool()
            value = await pool.get(self._key(day or self.day()))
        except (RedisError, OSError, ConnectionError):
            return 0
        return int(value or 0)

    async def deferring(self) -> bool:
        """True when cosmetic writes should wait for tomorrow's quota (ours spent, or Zoho says so)."""
        if self.budget <= 0:
            return False
        return deferring(self.budget, self.reserve, *await self.figures())


class LabelWriter(Protocol):
    """What the label writes need of the Zoho client (ZohoClient is one)."""

    budget: ZohoDailyBudget | None
    limiter: ZohoRateLimiter | None

    async def update_salesorder_custom_fields(self, salesorder_id: str, values: dict[str, str],
                                             current: dict[str, Any] | None = None, *,
                                             cosmetic: bool = False) -> dict[str, Any]: ...


# Labels a seller acts on (or that are the only record of the event); intermediate progress is cosmetic.
DEFAULT_WRITTEN_LABELS = frozenset({
    "AWB Assigned", "Serviceability Failed", "Order Failed", "AWB Failed", "Undelivered", "RTO Initiated",
    "Returned", "Lost in Transit", "Cancelled", "Return Pickup Scheduled", "Return Cancelled",
    "Pickup Scheduled"})  # the parcel waits for its courier: the seller's team needs to see it (issue 7)
# Shown by Zoho itself (the package / shipment order) when Shipbridge records the delivery there.
RECORDED_BY_ZOHO_LABELS = frozenset({"Picked Up", "Delivered"})


def writes_label(settings: Settings, label: str, key: str | None = None) -> bool:
    """Whether a cf_shipment_status value is written at all (TRACKING_WRITE_LABELS); `key` is the status
    behind it ("delivered", "return:delivered", a fulfilment step), so either may be listed."""
    chosen = settings.TRACKING_WRITE_LABELS
    if chosen is None:
        return label in DEFAULT_WRITTEN_LABELS or (not settings.ZOHO_RECORD_DELIVERY
                                                   and label in RECORDED_BY_ZOHO_LABELS)
    return "*" in chosen or label in chosen or (key is not None and key in chosen)


async def zoho_usage_today(budget: ZohoDailyBudget, sessionmaker: async_sessionmaker[AsyncSession]) -> ZohoUsage:
    """Today's Zoho budget as ops sees it (the summary and metrics read this)."""
    async with sessionmaker() as session:
        pending = int(await session.scalar(select(func.count()).select_from(ZohoDeferredWrite)) or 0)
    used, zoho_remaining = await budget.figures()
    return ZohoUsage(day=budget.day(), used=used, budget=budget.budget, deferred_pending=pending,
                     reserve=budget.reserve, zoho_remaining=zoho_remaining)


async def write_status_fields(zoho: LabelWriter, sessionmaker: async_sessionmaker[AsyncSession],
                              salesorder_id: str, values: dict[str, str],
                              current: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """A cosmetic sales-order write (a status label): made now, or deferred when the day's budget is
    nearly spent or the rate window is busy with AWB and money writes. Returns Zoho's sales order when
    written, None when deferred. A write made now replaces any deferred one for the order, which is older
    by construction."""
    if zoho.budget is not None and await zoho.budget.deferring():
        async with sessionmaker.begin() as session:
            await defer(session, salesorder_id, values)
        log.info("Zoho budget nearly spent: %s on %s deferred to the reset", values, salesorder_id)
        return None
    try:
        so = await zoho.update_salesorder_custom_fields(salesorder_id, values, current, cosmetic=True)
    except ZohoWindowBusy:
        async with sessionmaker.begin() as session:
            await defer(session, salesorder_id, values)
        log.info("Zoho rate window kept for AWB and money writes: %s on %s deferred", values, salesorder_id)
        return None
    async with sessionmaker.begin() as session:
        await session.execute(delete(ZohoDeferredWrite).where(ZohoDeferredWrite.salesorder_id == salesorder_id))
    return so


async def defer(session: AsyncSession, salesorder_id: str, values: dict[str, str]) -> None:
    now = datetime.now(UTC)
    stmt = insert(ZohoDeferredWrite).values(salesorder_id=salesorder_id, values=values, deferred_at=now,
                                            updated_at=now)
    # The latest values win (only the newest status is worth a call); the first deferral time keeps the order.
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[ZohoDeferredWrite.salesorder_id],
        set_={"values": ZohoDeferredWrite.values.op("||")(stmt.excluded["values"]), "updated_at": now}))


async def flush_deferred_writes(zoho: LabelWriter, sessionmaker: async_sessionmaker[AsyncSession],
                                max_wait: float = 0.0) -> int:
    """Write what was deferred, first deferred first, while the day's budget and the rate window's share
    for labels allow (the worker's flush job calls it every SWEEP_INTERVAL_SECONDS; one query when nothing
    waits). When the window has no room for a label, wait for the next quarter as long as `max_wait`
    seconds allow (labels get a share of every quarter; giving up at the first refusal would write a
    handful an interval), else stop until the next run. A row changed while its write was in flight is
    kept for the next flush. Returns how many were written."""
    from app.integrations.http import PermanentUpstreamError

    budget = zoho.budget
    written = 0
    deadline = asyncio.get_running_loop().time() + max_wait
    async with sessionmaker() as session:
        rows = (await session.execute(select(ZohoDeferredWrite).order_by(ZohoDeferredWrite.deferred_at,
                                                                          ZohoDeferredWrite.id)
                                      .limit(FLUSH_BATCH))).scalars().all()
    for row in rows:
        if budget is not None and await budget.deferring():
            break
        try:
            if not await _write_deferred(zoho, row.salesorder_id, dict(row.values), deadline):
                break  # AWB and money writes need the window now: the next sweep goes on
        except PermanentUpstreamError as exc:  # the order was deleted or the field removed: nothing to keep
            log.warning("deferred write to %s refused (%s); dropped", row.salesorder_id, exc.upstream_message)
        async with sessionmaker.begin() as session:
            await session.execute(delete(ZohoDeferredWrite).where(
                ZohoDeferredWrite.id == row.id, ZohoDeferredWrite.updated_at == row.updated_at))
        written += 1
    if written:
        log.info("wrote %d deferred Zoho status write(s)", written)
    return written


async def _write_deferred(zoho: LabelWriter, salesorder_id: str, values: dict[str, str], deadline: float) -> bool:
    """One deferred label, waiting for a later quarter while the deadline allows; False if it never fit."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            await zoho.update_salesorder_custom_fields(salesorder_id, values, cosmetic=True)
            return True
        except ZohoWindowBusy:
            pause = zoho.limiter.seconds_to_next_quarter() + 0.05 if zoho.limiter is not None else 0.0
            if loop.time() + pause > deadline:
                return False
            await asyncio.sleep(pause)
