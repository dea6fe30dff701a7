"""Outages of our own servers, each on its own embedded Postgres or Redis that the test stops and
starts again: Redis gone while webhooks arrive, Postgres gone while jobs run, the API process killed
mid-burst. Senders retry as Zoho and Shiprocket do (non-2xx or no answer: try again)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import httpx
import pytest
from redis.exceptions import RedisError

from app.main import create_app
from app.migrate import upgrade
from app.services import Services, build_services
from sandbox.embedded import EmbeddedPostgres, EmbeddedRedis
from sandbox.server import free_port
from tests.faults.invariants import assert_one_booking_each, stuck, swept_and_quiet
from tests.faults.ledger import injected
from tests.faults.processes import api_ready, kill, start_api, stop
from tests.harness import WEBHOOK_SECRET, api_client, eventually, running_worker
from tests.spine_helpers import confirmed_order, deliver, in_state

pytestmark = pytest.mark.slow


@asynccontextmanager
async def own_dir() -> AsyncIterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sbf-"))  # short: unix socket paths stay under ~100 chars
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def worker_losing_redis(svc: Services) -> AsyncIterator[None]:
    """A worker whose Redis goes away under it: it dies as a worker process would (its supervisor
    restarts it); only that exit is excused."""
    context = running_worker(svc)
    await context.__aenter__()
    try:
        yield
    finally:
        with suppress(RedisError, OSError):
            await context.__aexit__(None, None, None)


async def until_accepted(send: Callable[[], Awaitable[httpx.Response]], timeout: float = 60) -> httpx.Response:
    """Deliver as the upstreams do: again and again until a 2xx."""
    async def attempt() -> httpx.Response | None:
        try:
            response = await send()
        except httpx.TransportError:
            return None
        return response if response.status_code == 200 else None

    return await eventually(attempt, timeout=timeout, interval=0.2)  # type: ignore[arg-type]


async def test_redis_stopped_while_webhooks_arrive_then_restarted(settings, clean, shiprocket_sim, zoho_sim):
    async with own_dir() as path:
        redis = EmbeddedRedis(path / "redis")
        redis.start()
        own = settings.model_copy(update={"REDIS_URL": redis.url})
        svc = build_services(own)
        try:
            before = [confirmed_order(zoho_sim, number=f"SO-RB{i}") for i in range(3)]
            during = [confirmed_order(zoho_sim, number=f"SO-RD{i}") for i in range(4)]
            async with api_client(create_app(own, svc)) as client:
                async with worker_losing_redis(svc):
                    for so_id in before:
                        await deliver(client, zoho_sim, so_id)
                    for so_id in before:
                        await eventually(in_state(svc, so_id, "manifested"), timeout=30)
                    await asyncio.to_thread(redis.stop)
                    injected("Redis stopped and restarted")
                    answers = await asyncio.gather(*(deliver(client, zoho_sim, so_id) for so_id in during))
                    # Stored before the answer, so accepted; the enqueue after the answer fails quietly.
                    assert [a.status_code for a in answers] == [200] * len(during)
                    await asyncio.sleep(0.5)
                assert (await stuck(svc))["inbox_pending"] == len(during)
                await asyncio.to_thread(redis.start)  # same port, empty: the queue was lost with it
                async with running_worker(svc):
                    await eventually(lambda: swept_and_quiet(svc), timeout=60, interval=0.5)
            await assert_one_booking_each(svc, shiprocket_sim, zoho_sim, before + during)
        finally:
            await svc.close()
            redis.stop()


async def test_postgres_stopped_and_restarted_while_jobs_run(settings, clean, shiprocket_sim, zoho_sim):
    async with own_dir() as path:
        pg = EmbeddedPostgres(path / "pg")
        await asyncio.to_thread(pg.start)
        url = await asyncio.to_thread(pg.create_database, "faults")
        await asyncio.to_thread(upgrade, url)
        own = settings.model_copy(update={"DATABASE_URL": url})
        svc = build_services(own)
        try:
            so_ids = [confirmed_order(zoho_sim, number=f"SO-PG{i}") for i in range(6)]
            shiprocket_sim.faults.set_latency(0.3)  # jobs are mid-step when Postgres goes
            async with api_client(create_app(own, svc)) as client, running_worker(svc):
                for so_id in so_ids:
                    await deliver(client, zoho_sim, so_id)
                await eventually(lambda: _calls_started(shiprocket_sim), timeout=30)
                assert (await stuck(svc))["shipments_mid_flow"] + (await stuck(svc))["inbox_pending"] > 0
                await asyncio.to_thread(pg.stop)
                injected("Postgres stopped and restarted")
                await asyncio.sleep(1.0)
                pg = EmbeddedPostgres(path / "pg")
                await asyncio.to_thread(pg.start)
                shiprocket_sim.faults.reset()
                await eventually(lambda: swept_and_quiet(svc), timeout=90, interval=0.5)
            await assert_one_booking_each(svc, shiprocket_sim, zoho_sim, so_ids)
        finally:
            await svc.close()
            pg.stop()


async def _calls_started(sim) -> bool:
    return any(p == "/orders/create/adhoc" for _, p in sim.calls)


async def test_api_killed_and_restarted_mid_burst(svc, shiprocket_sim, zoho_sim):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    so_ids = [confirmed_order(zoho_sim, number=f"SO-API{i}") for i in range(16)]
    api = start_api(port)
    try:
        await eventually(lambda: api_ready(url), timeout=60, interval=0.2)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client, running_worker(svc):
            async def send(so_id: str) -> httpx.Response:
                return await until_accepted(lambda: deliver(client, zoho_sim, so_id, secret=WEBHOOK_SECRET))

            burst = [asyncio.create_task(send(so_id)) for so_id in so_ids]
            await eventually(lambda: _some_done(burst, 4), timeout=30)
            kill(api)  # SIGKILL mid-burst: some deliveries are cut off, some answered but not enqueued
            api = start_api(port)
            await asyncio.gather(*burst)
            await eventually(lambda: swept_and_quiet(svc), timeout=90, interval=0.5)
        await assert_one_booking_each(svc, shiprocket_sim, zoho_sim, so_ids)
    finally:
        stop(api)


async def _some_done(tasks: list[asyncio.Task], n: int) -> bool:
    return sum(t.done() for t in tasks) >= n
