"""Everything a process needs to do work, built once per process (API or worker): the engine, one
shared httpx.AsyncClient, the upstream clients, the courier rules and the queue."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import make_engine, make_sessionmaker
from app.integrations.aggregator import Aggregator
from app.integrations.gokwik.client import GoKwikClient
from app.integrations.http import RetryPolicy
from app.integrations.shiplee.client import ShipleeClient
from app.integrations.shiprocket.client import ShiprocketClient
from app.integrations.zoho.budget import ZohoDailyBudget
from app.integrations.zoho.client import ZohoClient
from app.integrations.zoho.rate_limit import ZohoRateLimiter
from app.queue import Queue
from app.rules import CourierRules, ParcelDefaults, load_rules
from app.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    aggregator: Aggregator  # the preferred one (first of settings.aggregator_order)
    zoho: ZohoClient
    rules: CourierRules
    queue: Queue
    gokwik: GoKwikClient | None = None  # used only when settings.gokwik_configured
    # Every configured aggregator by name, in order of preference. A shipment's work goes to
    # `aggregator_for(shipment.aggregator)`, the one that booked it.
    aggregators: dict[str, Aggregator] = field(default_factory=dict)

    def aggregator_for(self, name: str | None) -> Aggregator:
        """The client of the aggregator `name` (a shipment's `aggregator`); KeyError names one not configured."""
        if not name or name == self.aggregator.name:
            return self.aggregator
        try:
            return self.aggregators[name]
        except KeyError:
            raise KeyError(f"aggregator {name!r} is not configured (AGGREGATORS, SHIPLEE_MOBILE)") from None

    @property
    def parcel_defaults(self) -> ParcelDefaults:
        s = self.settings
        return ParcelDefaults(s.DEFAULT_WEIGHT_KG, s.DEFAULT_LENGTH_CM, s.DEFAULT_BREADTH_CM, s.DEFAULT_HEIGHT_CM)

    async def close(self) -> None:
        await self.queue.close()
        await self.http.aclose()
        await self.engine.dispose()


def run_once(job: Callable[[Services], Awaitable[Any]]) -> Any:
    """For one-shot CLI commands: build the services from the environment, run `job`, close them."""
    from app.settings import load_settings_or_exit

    async def run() -> Any:
        svc = build_services(load_settings_or_exit())
        try:
            return await job(svc)
        finally:
            await svc.close()

    return asyncio.run(run())


def worker_pool_size(settings: Settings) -> int:
    return 2 * settings.WORKER_MAX_JOBS + 2


def build_services(settings: Settings, engine: AsyncEngine | None = None, pool_size: int | None = None) -> Services:
    engine = engine or make_engine(settings.DATABASE_URL, pool_size=pool_size or settings.DB_POOL_SIZE)
    sessionmaker = make_sessionmaker(engine)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.HTTP_TIMEOUT_SECONDS, connect=min(10.0, settings.HTTP_TIMEOUT_SECONDS)),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        headers={"User-Agent": "Shipbridge/0.1"},
    )
    policy = RetryPolicy(max_retries=settings.HTTP_MAX_RETRIES, base_delay=settings.HTTP_BACKOFF_BASE_SECONDS,
                         max_delay=settings.HTTP_BACKOFF_MAX_SECONDS)
    queue = Queue(settings.REDIS_URL)
    limiter = ZohoRateLimiter(queue, settings.ZOHO_ORGANIZATION_ID, settings.ZOHO_MAX_CALLS_PER_WINDOW,
                              settings.ZOHO_RATE_WINDOW_SECONDS)
    aggregators: dict[str, Aggregator] = {"shiprocket": ShiprocketClient(http, settings, sessionmaker, policy)}
    if settings.shiplee_configured or "shiplee" in settings.aggregator_order:
        aggregators["shiplee"] = ShipleeClient(http, settings, sessionmaker, policy)
    preferred = [aggregators[name] for name in settings.aggregator_order if name in aggregators]
    aggregators = {a.name: a for a in preferred} | aggregators  # preference order first, the rest after
    return Services(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        http=http,
        aggregator=next(iter(aggregators.values())),
        aggregators=aggregators,
        zoho=ZohoClient(http, settings, sessionmaker, policy, limiter, ZohoDailyBudget.from_settings(queue, settings)),
        rules=load_rules(settings.courier_rules_path),
        queue=queue,
        gokwik=GoKwikClient(http, settings),
    )
