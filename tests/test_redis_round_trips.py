"""Redis round trips per order and per Zoho call, counted on the wire of Shipbridge's own Redis pool
(`svc.queue`, which every job and the API share): each command, or pipeline, written to a connection is one
trip. Nothing is mocked: the commands go to the test Redis and their answers drive the code as in
production. Counts, never times; the ceilings below fail the suite if a change adds a trip to the hot path
(docs/BENCHMARKS.md has the figures before and after they were cut)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.fulfilment import routing
from app.fulfilment.handler import accept_salesorder, item_packages
from app.fulfilment.service import MAX_STEPS, STEPS
from app.fulfilment.state import next_step
from app.integrations.shipping import AccountActionRequired
from app.integrations.zoho.budget import KEY_TTL_SECONDS, ZohoDailyBudget, write_status_fields
from app.integrations.zoho.rate_limit import ZohoRateLimiter
from app.main import create_app
from app.models import InboxEvent, Shipment
from app.queue import Queue
from app.services import Services, build_services
from app.settings import Settings
from sandbox.server import free_port
from sandbox.zoho import ZohoSim
from tests.harness import api_client, eventually
from tests.integrations.test_shiplee_client import ship_order
from tests.spine_helpers import confirmed_order, deliver, seed_item

# The ceilings: what the hot path costs now. Raise one only for a reason worth a round trip per order.
# The arq enqueue (a Lua script), the item cache, the aggregators' health (one MGET), the booking's DEL, and
# the AWB write's limiter script, which counts the day's call too. (Before: 10, 11 with two aggregators.)
ORDER_TO_AWB = 5
ORDER_TO_AWB_TWO_AGGREGATORS = ORDER_TO_AWB  # a second aggregator costs no trip: one read covers all
ZOHO_WRITE = 1  # the limiter's script also counts the day's call (before: 3, EVAL, INCRBY, SET)
LABEL_WRITE = 2  # the day's figures (one MGET), then the call as above (before: 5, two GETs first)


def command_names(packed: Iterable[bytes | memoryview]) -> tuple[str, ...]:
    """The command names in a packed RESP write (one command, or a pipeline's several)."""
    data = b"".join(bytes(chunk) for chunk in packed)
    names: list[str] = []
    at = 0
    while at < len(data) and data[at:at + 1] == b"*":
        end = data.index(b"\r\n", at)
        parts = int(data[at + 1:end])
        at = end + 2
        for index in range(parts):
            end = data.index(b"\r\n", at)
            length = int(data[at + 1:end])
            if index == 0:
                names.append(data[end + 2:end + 2 + length].decode().upper())
            at = end + 2 + length + 2
    return tuple(names)


class RoundTrips:
    """Counts what `queue`'s connections write: one entry per round trip, the commands it carried. A
    connection's own handshake (CLIENT SETINFO on connect) is counted apart, in `connects`."""

    def __init__(self) -> None:
        self.trips: list[tuple[str, ...]] = []
        self.connects = 0

    @classmethod
    async def on(cls, queue: Queue) -> RoundTrips:
        counter = cls()
        connections = (await queue.pool()).connection_pool

        class Counting(connections.connection_class):  # type: ignore[misc,name-defined]
            handshaking = False

            async def on_connect(self) -> None:
                counter.connects += 1
                self.handshaking = True
                try:
                    await super().on_connect()
                finally:
                    self.handshaking = False

            async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
                if not self.handshaking:
                    counter.trips.append(command_names([command] if isinstance(command, bytes) else command))
                await super().send_packed_command(command, check_health)

        # From here on every connection of the pool is a counting one (the open ones are dropped).
        await connections.disconnect()
        connections.reset()
        connections.connection_class = Counting
        await (await queue.pool()).ping()
        counter.reset()
        return counter

    def reset(self) -> None:
        self.trips.clear()

    def since(self, mark: int) -> list[tuple[str, ...]]:
        return self.trips[mark:]


async def drive_until(svc: Services, so_id: str, state: str) -> Shipment:
    """The fulfilment job's loop (service._drive), stopped once the shipment reaches `state`."""
    for _ in range(MAX_STEPS):
        async with svc.sessionmaker() as session:
            shipment = await session.scalar(select(Shipment).where(Shipment.salesorder_id == so_id))
        assert shipment is not None
        if shipment.state == state:
            return shipment
        await STEPS[next_step(shipment, datetime.now(UTC))](svc, shipment)
    raise AssertionError(f"{so_id} never reached {state}")


async def order_to_awb_on_zoho(svc: Services, zoho_sim: ZohoSim) -> tuple[list[tuple[str, ...]], Shipment]:
    """One order from its signed webhook to its AWB written on the Zoho sales order: the API stores and
    enqueues it, the intake handler maps it (its item's package details already cached, as for every
    order after an item's first), and the fulfilment steps run until the write-back."""
    item_id = seed_item(zoho_sim)
    await item_packages(svc, [item_id])  # the item's first order read it; later ones hit the cache
    so_id = confirmed_order(zoho_sim, item_id=item_id)
    trips = await RoundTrips.on(svc.queue)
    async with api_client(create_app(svc.settings, svc)) as client:
        assert (await deliver(client, zoho_sim, so_id)).status_code == 200

        async def enqueued() -> InboxEvent | None:
            async with svc.sessionmaker() as session:
                return await session.scalar(select(InboxEvent).where(InboxEvent.enqueued_at.is_not(None)))

        event = await eventually(enqueued)
    state, _ = await accept_salesorder(svc, event)
    assert state == "done"
    shipment = await drive_until(svc, so_id, "synced")
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == shipment.awb
    return trips.trips, shipment


def show(what: str, trips: list[tuple[str, ...]]) -> None:
    print(f"\n{what}: {len(trips)} Redis round trips: {trips}")


@pytest.fixture
def zoho_quota(zoho_sim: ZohoSim) -> ZohoSim:
    """Zoho's replies carry X-Rate-Limit-Remaining, as real ones do (the budget keeps what they say)."""
    zoho_sim.quota.configure(per_day=5000)
    return zoho_sim


@pytest.fixture
async def two_aggregators(shiplee_settings: Settings, clean: None) -> AsyncIterator[Services]:
    svc = build_services(shiplee_settings.model_copy(update={"AGGREGATORS": "shiprocket,shiplee"}))
    yield svc
    await svc.close()


async def test_one_order_to_its_awb_on_zoho(svc, shiprocket_sim, zoho_quota):
    trips, shipment = await order_to_awb_on_zoho(svc, zoho_quota)
    show("webhook -> AWB on Zoho, one aggregator", trips)
    assert shipment.aggregator == "shiprocket"
    assert len(trips) <= ORDER_TO_AWB
    assert ("PING",) not in trips  # the pool is made once per process, not checked per call


async def test_one_order_with_two_aggregators_configured(two_aggregators, shiprocket_sim, shiplee_sim, zoho_quota):
    trips, shipment = await order_to_awb_on_zoho(two_aggregators, zoho_quota)
    show("webhook -> AWB on Zoho, shiprocket,shiplee", trips)
    assert shipment.aggregator == "shiprocket"
    assert len(trips) <= ORDER_TO_AWB_TWO_AGGREGATORS


async def test_one_zoho_write_call(svc, zoho_quota):
    so_id = confirmed_order(zoho_quota)
    current = await svc.zoho.get_salesorder(so_id)
    trips = await RoundTrips.on(svc.queue)
    mark = len(zoho_quota.calls)
    await svc.zoho.update_salesorder_custom_fields(so_id, {"cf_awb_number": "AWB-1"}, current)
    show("one Zoho write", trips.trips)
    assert zoho_quota.calls[mark:] == [("PUT", f"/inventory/v1/salesorders/{so_id}")]
    assert len(trips.trips) <= ZOHO_WRITE
    assert await svc.zoho.budget.used() == 2  # the read and the write, both counted for the day


async def test_one_label_write(svc, zoho_quota):
    so_id = confirmed_order(zoho_quota)
    current = await svc.zoho.get_salesorder(so_id)
    trips = await RoundTrips.on(svc.queue)
    assert await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": "Undelivered"},
                                     current) is not None
    show("one label write", trips.trips)
    assert zoho_quota.custom_field(so_id, "cf_shipment_status") == "Undelivered"
    assert len(trips.trips) <= LABEL_WRITE


# --- The cuts keep their meaning ---

async def test_one_read_says_who_is_down_and_who_waits_for_the_seller(two_aggregators):
    svc = two_aggregators
    redis = await svc.queue.pool()
    await redis.set("shipbridge:aggregator-failing-since:shiprocket", repr(time.time() - 400))
    await routing.record_failure(svc, "shiprocket")  # failing for 400 s: down
    await routing.alert_blocked(svc, "shiplee", AccountActionRequired("shiplee", "wallet empty", code="WALLET"))
    trips = await RoundTrips.on(svc.queue)
    health = await routing.health_now(svc)
    assert trips.trips == [("MGET",)]
    # The same answers as the per-aggregator reads it replaced (down_for: two GETs each).
    assert health.down.keys() == {"shiprocket"} and await routing.down_for(svc, "shiplee") is None
    assert abs(health.down["shiprocket"] - (await routing.down_for(svc, "shiprocket") or 0)) < 5
    assert health.blocked.keys() == {"shiplee"} and health.blocked["shiplee"].code == "WALLET"
    assert "wallet empty" in health.blocked["shiplee"].message
    assert health.failing == {"shiprocket"} and not health.nothing_to_clear("shiprocket")
    assert health.nothing_to_clear("shiplee")  # blocked, but no failures to clear after a quote


async def test_a_quote_clears_a_run_of_failures_and_writes_nothing_when_there_was_none(svc, shiprocket_sim):
    await routing.record_failure(svc, "shiprocket")  # one failure: not down, but its clock runs
    found = await routing.route(svc, ship_order("SO-1"), [])
    assert found.decision is not None
    redis = await svc.queue.pool()
    assert await redis.exists("shipbridge:aggregator-failing-since:shiprocket",
                              "shipbridge:aggregator-last-failure:shiprocket") == 0  # the success cleared it
    trips = await RoundTrips.on(svc.queue)
    assert (await routing.route(svc, ship_order("SO-2"), [])).decision is not None
    assert trips.trips == [("MGET",)]  # nothing to clear: no DEL


async def test_a_booking_clears_failures_and_a_block_in_one_trip(svc):
    await routing.record_failure(svc, "shiprocket")
    await routing.alert_blocked(svc, "shiprocket", AccountActionRequired("shiprocket", "KYC", code="KYC"))
    trips = await RoundTrips.on(svc.queue)
    await routing.record_booking(svc, "shiprocket")
    assert trips.trips == [("DEL",)]
    health = await routing.health_now(svc)
    assert health.failing == set() and health.blocked == {} and health.down == {}


async def test_the_limiter_counts_the_days_call_only_when_it_lets_one_through(redis_url):
    queue = Queue(redis_url)
    org = f"org-{uuid.uuid4()}"
    budget = ZohoDailyBudget(queue, org, 5000, 0.1, "Asia/Kolkata")
    limiter = ZohoRateLimiter(queue, org, limit=32, window_seconds=600)  # labels: 2 calls a quarter
    try:
        await limiter.acquire(budget.counter())
        assert await limiter.try_acquire_cosmetic(budget.counter())
        assert not await limiter.try_acquire_cosmetic(budget.counter())  # refused: no call, none counted
        assert await budget.used() == 2
        ttl = await (await queue.pool()).ttl(budget.counter().key)
        assert 0 < ttl <= KEY_TTL_SECONDS  # the day's key cleans itself up, as spend's did
        await budget.spend()  # the limiter off (ZOHO_MAX_CALLS_PER_WINDOW=0): counted on its own, one trip
        trips = await RoundTrips.on(queue)
        await budget.spend()
        assert trips.trips == [("EVAL",)] and await budget.used() == 4
    finally:
        await queue.close()


async def test_without_redis_zoho_calls_still_go(settings, zoho_sim, clean):
    dead = settings.model_copy(update={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    svc = build_services(dead)
    try:
        so_id = confirmed_order(zoho_sim)
        current = await svc.zoho.get_salesorder(so_id)
        assert await write_status_fields(svc.zoho, svc.sessionmaker, so_id, {"cf_shipment_status": "Undelivered"},
                                         current) is not None
    finally:
        await svc.close()
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Undelivered"


async def test_zohos_own_remaining_is_stored_when_it_moves_or_nears_the_reserve(redis_url):
    queue, org = Queue(redis_url), f"org-{uuid.uuid4()}"
    budget = ZohoDailyBudget(queue, org, 5000, 0.1, "Asia/Kolkata")  # a step of 50, a reserve of 500
    other = ZohoDailyBudget(queue, org, 5000, 0.1, "Asia/Kolkata")  # another process's
    try:
        trips = await RoundTrips.on(queue)
        await budget.observe({"X-Rate-Limit-Remaining": "4000"})  # the process's first: stored
        await budget.observe({"X-Rate-Limit-Remaining": "3990"})  # moved less than 1 % of the budget: kept
        assert trips.trips == [("SET",)] and await other.zoho_remaining() == 4000
        await budget.observe({"X-Rate-Limit-Remaining": "3950"})  # moved 50: stored
        assert await other.zoho_remaining() == 3950
        await budget.observe({"X-Rate-Limit-Remaining": "549"})
        await budget.observe({"X-Rate-Limit-Remaining": "540"})  # near the reserve: every change counts
        assert await other.zoho_remaining() == 540
        await other.observe({"X-Rate-Limit-Remaining": "499"})
        assert await budget.deferring() and await other.deferring()  # Zoho says the day is nearly spent
    finally:
        await queue.close()
