"""Which aggregator quotes and books an order, and where a failed booking goes next.

Aggregators are tried in AGGREGATORS order: the first that can serve the order decides, unless the rules
ask for a comparison (`across_aggregators`, or a matching rule that names an aggregator), in which case
every available one is quoted and the rules choose among all their couriers. An aggregator that has failed
every call for AGGREGATOR_DOWN_AFTER_SECONDS is skipped while another is up; that health lives in Redis
(shared by every process, and harmless to lose: the next failure starts the clock again). One that refused
a booking until the seller acts (AccountActionRequired) is "blocked" the same way: skipped without a call
until AGGREGATOR_BLOCKED_RECHECK_SECONDS pass, then its account is asked (no order made) before it gets
orders again. Couriers a booking gave up on (`Shipment.booking_hops`) are never offered again. See
docs/shipping.md."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from redis.exceptions import RedisError

from app.alerts import raise_alert
from app.fulfilment.courier_choice import CourierDecision, choose_courier
from app.integrations.aggregator import CourierOption, Serviceability, ShipOrder
from app.integrations.http import PermanentUpstreamError, RetryableUpstreamError, UpstreamAuthError, UpstreamError
from app.integrations.shipping import AccountActionRequired, UnsupportedByAggregator, display_name
from app.services import Services

log = logging.getLogger("shipbridge.fulfilment")

WHOLE_AGGREGATOR = "*"  # a booking_hops entry's courier_id when the booking left the aggregator itself
_FAILING_SINCE = "shipbridge:aggregator-failing-since:{}"  # first failure of the current run of failures
_LAST_FAILURE = "shipbridge:aggregator-last-failure:{}"
_BLOCKED = "shipbridge:aggregator-blocked:{}"  # {"code", "message", "checked": epoch of the last refusal/check}
_FORGET_SECONDS = 7 * 86400  # a run of failures this old is forgotten, not remembered as down
# A down aggregator gets no calls, so nothing would ever say it is back: once it has been quiet this
# long, the next order tries it again (a success clears it; a failure makes it down again at once).
RECHECK_SECONDS = 60.0


# --- health -------------------------------------------------------------------------------------------

async def record_failure(svc: Services, name: str) -> None:
    """A call to `name` failed after its retries (5xx, timeout): start its clock if it is not running."""
    now = repr(time.time())
    try:
        redis = await svc.queue.pool()
        await redis.set(_FAILING_SINCE.format(name), now, nx=True, ex=_FORGET_SECONDS)
        await redis.set(_LAST_FAILURE.format(name), now, ex=_FORGET_SECONDS)
    except (RedisError, OSError):
        log.warning("could not record %s's failure in Redis", name)


async def record_success(svc: Services, name: str) -> None:
    try:
        redis = await svc.queue.pool()
        await redis.delete(_FAILING_SINCE.format(name), _LAST_FAILURE.format(name))
    except (RedisError, OSError):
        log.warning("could not record %s's recovery in Redis", name)


async def record_booking(svc: Services, name: str) -> None:
    """`name` booked: record_success and clear_blocked in one round trip."""
    try:
        redis = await svc.queue.pool()
        await redis.delete(_FAILING_SINCE.format(name), _LAST_FAILURE.format(name), _BLOCKED.format(name))
    except (RedisError, OSError):
        log.warning("could not record %s's booking in Redis", name)


async def down_for(svc: Services, name: str) -> float | None:
    """How long `name` has been failing, when it has failed every call for AGGREGATOR_DOWN_AFTER_SECONDS
    and failed again within RECHECK_SECONDS; else None. Redis unreachable: nothing is down (the calls
    themselves will say)."""
    try:
        redis = await svc.queue.pool()
        since, last = await redis.mget(_FAILING_SINCE.format(name), _LAST_FAILURE.format(name))
    except (RedisError, OSError):
        return None
    return _down_seconds(svc, since, last)


def _down_seconds(svc: Services, since: bytes | str | None, last: bytes | str | None) -> float | None:
    """down_for's rule, on the two stored times."""
    if since is None or last is None:
        return None
    now = time.time()
    failing = float(last) - float(since)
    if failing < svc.settings.AGGREGATOR_DOWN_AFTER_SECONDS or now - float(last) > RECHECK_SECONDS:
        return None
    return now - float(since)


async def alert_blocked(svc: Services, name: str, exc: AccountActionRequired) -> None:
    """Remember that `name` refuses bookings until the seller acts, so new orders skip it (health_now's `blocked`),
    and alert once per aggregator and refusal. Shiplee's agreement gate alerts from the client itself,
    with the terms' title."""
    await _remember_blocked(svc, name, str(exc.code or type(exc).__name__), exc.upstream_message)
    if exc.code == "AGREEMENT_REQUIRED":
        return
    async with svc.sessionmaker.begin() as session:
        await raise_alert(session, kind="aggregator_blocked", key=f"{name}:{exc.code or type(exc).__name__}",
                          message=f"{display_name(name)} refuses bookings until the seller acts: {exc.upstream_message}"
                                  f". Meanwhile orders go to the next aggregator in AGGREGATORS, or wait parked.")


async def _remember_blocked(svc: Services, name: str, code: str, message: str) -> None:
    try:
        redis = await svc.queue.pool()
        await redis.set(_BLOCKED.format(name), json.dumps({"code": code, "message": message[:500],
                                                           "checked": time.time()}), ex=_FORGET_SECONDS)
    except (RedisError, OSError):
        log.warning("could not record in Redis that %s waits for the seller", name)


async def clear_blocked(svc: Services, name: str) -> None:
    """`name` booked (or its account check passed): it takes new orders again."""
    try:
        redis = await svc.queue.pool()
        await redis.delete(_BLOCKED.format(name))
    except (RedisError, OSError):
        log.warning("could not clear %s's blocked state in Redis", name)


@dataclass
class Blocked:
    code: str
    message: str
    checked: float  # epoch of the refusal, or of the last account check that found it still blocked


async def still_blocked(svc: Services, name: str, blocked: Blocked) -> str | None:
    """Why to keep routing around `name`, or None to offer it orders again. Before
    AGGREGATOR_BLOCKED_RECHECK_SECONDS have passed since the refusal (or the last check): blocked, no call.
    After: ask the account (Shiplee: agreement and wallet, no order made); an aggregator with no such
    check gets the next order, whose booking tells."""
    if time.time() - blocked.checked < svc.settings.AGGREGATOR_BLOCKED_RECHECK_SECONDS:
        return blocked.message
    try:
        why = await svc.aggregators[name].account_blocker()
    except UnsupportedByAggregator:
        return None  # no such check (Shiprocket): the next order's booking tells
    except UpstreamError as exc:
        # Unknown is not ready: keep routing around it, and keep the seller's reason we know (the
        # failure is ours to note, not a new reason for the seller), so the orders until the next
        # check still say what the seller must do.
        log.warning("%s's account check failed: %s", display_name(name), exc.upstream_message)
        await _remember_blocked(svc, name, blocked.code, blocked.message)  # one check per period
        return f"{blocked.message}; account check failed: {exc.upstream_message}"
    if why is None:
        log.info("%s's account takes bookings again", display_name(name))
        await clear_blocked(svc, name)
        return None
    await _remember_blocked(svc, name, blocked.code, why)  # the clock starts again: one check per period
    return why


@dataclass
class Health:
    """Every configured aggregator's state in Redis, read at once (`health_now`)."""

    down: dict[str, float]  # down now, with how long each has been failing (down_for's rule)
    blocked: dict[str, Blocked]  # waiting for the seller (alert_blocked); unreadable entries left out
    failing: set[str]  # a run of failures is remembered (down or not yet): a success must clear it
    read: set[str]  # the names this read covered

    def nothing_to_clear(self, name: str) -> bool:
        """A success of `name` would change nothing in Redis: skip the write."""
        return name in self.read and name not in self.failing


async def health_now(svc: Services) -> Health:
    """Which aggregators are down and which wait for the seller, in one MGET (one Redis round trip per
    order, not one per aggregator plus one), and which aggregators have failures to clear. Redis
    unreachable: nothing down or blocked (the calls themselves will say), and nothing known to be clear."""
    names = svc.settings.aggregator_order
    keys = [k.format(n) for n in names for k in (_FAILING_SINCE, _LAST_FAILURE, _BLOCKED)]
    try:
        redis = await svc.queue.pool()
        raws = await redis.mget(keys)
    except (RedisError, OSError):
        return Health({}, {}, set(), set())
    health = Health({}, {}, set(), set(names))
    for index, name in enumerate(names):
        since, last, blocked = raws[3 * index:3 * index + 3]
        if since is not None or last is not None:
            health.failing.add(name)
        if (down := _down_seconds(svc, since, last)) is not None:
            health.down[name] = down
        if (entry := _blocked_entry(blocked)) is not None:
            health.blocked[name] = entry
    return health


def _blocked_entry(raw: bytes | str | None) -> Blocked | None:
    """A stored blocked entry, or None when absent or unreadable (nothing is blocked: the booking will say)."""
    try:
        entry = json.loads(raw) if raw else None
        if isinstance(entry, dict):
            return Blocked(str(entry.get("code") or "blocked"), str(entry.get("message") or "waiting for the seller"),
                           float(entry.get("checked") or 0))
    except (ValueError, TypeError):
        pass
    return None


# --- hops ---------------------------------------------------------------------------------------------

def hop(aggregator: str, courier_id: str, reason: str) -> dict[str, Any]:
    return {"aggregator": aggregator, "courier_id": courier_id, "reason": reason[:500]}


def given_up(hops: list[dict[str, Any]], couriers_per_aggregator: int) -> tuple[set[tuple[str, str]], set[str]]:
    """(couriers given up, aggregators given up): an aggregator is left wholesale, or after
    `couriers_per_aggregator` of its couriers failed."""
    couriers = {(str(h.get("aggregator")), str(h.get("courier_id"))) for h in hops if isinstance(h, dict)}
    left = {a for a, c in couriers if c == WHOLE_AGGREGATOR}
    for name in {a for a, _ in couriers}:
        if sum(1 for a, c in couriers if a == name and c != WHOLE_AGGREGATOR) >= couriers_per_aggregator:
            left.add(name)
    return couriers, left


# --- quoting ------------------------------------------------------------------------------------------

@dataclass
class Route:
    decision: CourierDecision | None
    notes: list[str] = field(default_factory=list)  # why aggregators were passed over, for the log/alert
    blocked: list[AccountActionRequired] = field(default_factory=list)  # waiting for a person's action
    auth: list[UpstreamAuthError] = field(default_factory=list)  # our credentials refused

    @property
    def aggregator(self) -> str:
        assert self.decision is not None
        return self.decision.courier.aggregator


async def route(svc: Services, order: ShipOrder, hops: list[dict[str, Any]], health: Health | None = None) -> Route:
    """Quote the order and choose a courier. Raises RetryableUpstreamError when the aggregator that should
    decide failed transiently and is not (yet) counted as down: the job is retried. `health`: health_now(),
    when the caller has just read it."""
    health = health if health is not None else await health_now(svc)
    tried, left = given_up(hops, svc.settings.AWB_COURIERS_PER_AGGREGATOR)
    result = Route(decision=None)
    # AGGREGATORS decides where new bookings go; svc.aggregators also holds ones kept only for the
    # shipments they booked before.
    ordered = [n for n in svc.settings.aggregator_order if n in svc.aggregators] or [svc.aggregator.name]
    names = [n for n in ordered if n not in left]
    result.notes += [f"{display_name(n)} already given up on" for n in ordered if n in left]
    for name, entry in health.blocked.items():
        # Unlike "down", never tried anyway: the seller's action is missing, and each try would create
        # (and cancel) an order there. With nowhere else to go the order parks (found.blocked).
        if name in names and (why := await still_blocked(svc, name, entry)) is not None:
            names.remove(name)
            result.blocked.append(AccountActionRequired(name, why, code=entry.code))
            result.notes.append(f"{display_name(name)} skipped: waiting for the seller ({why})")
    down = {n: s for n, s in health.down.items() if n in names}
    up = [n for n in names if n not in down] or names  # all down: try them anyway, in order
    result.notes += [f"{display_name(n)} skipped: down for {int(s)}s" for n, s in down.items() if n not in up]
    compare = svc.rules.across_aggregators or svc.rules.names_aggregator(order)
    pool: list[CourierOption] = []
    recommended: str | None = None
    for index, name in enumerate(up):
        client = svc.aggregators[name]
        try:
            quoted = await client.check_serviceability(order, svc.settings.SHIPROCKET_PICKUP_PINCODE)
        except UpstreamAuthError as exc:
            result.auth.append(exc)
            result.notes.append(f"{display_name(name)} refused our credentials")
            continue
        except AccountActionRequired as exc:
            await alert_blocked(svc, name, exc)
            result.blocked.append(exc)
            result.notes.append(f"{display_name(name)} is waiting for the seller: {exc.upstream_message}")
            continue
        except PermanentUpstreamError as exc:
            result.notes.append(f"{display_name(name)} refused the quote: {exc.upstream_message}")
            continue
        except RetryableUpstreamError as exc:
            await record_failure(svc, name)
            if index + 1 < len(up) and await down_for(svc, name) is not None:
                result.notes.append(f"{display_name(name)} is down ({exc.upstream_message})")
                continue
            raise
        if not health.nothing_to_clear(name):
            await record_success(svc, name)
        options = [replace(o, aggregator=name) for o in quoted.options if (name, o.courier_id) not in tried]
        if not options:
            result.notes.append(f"{display_name(name)}: no courier serves the lane to "
                                f"{order.address.pincode}" + (" (that has not failed already)" if quoted.options
                                                              else ""))
            continue
        if recommended is None and any(o.courier_id == quoted.recommended_id for o in options):
            recommended = quoted.recommended_id
        if compare:
            pool += options
            continue
        result.decision = choose_courier(order, Serviceability(tuple(options), quoted.recommended_id), svc.rules)
        if result.decision is not None:
            return result
    if pool:
        result.decision = choose_courier(order, Serviceability(tuple(pool), recommended), svc.rules)
    return result
