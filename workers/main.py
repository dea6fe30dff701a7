"""arq worker: `arq workers.main.WorkerSettings`. Job functions are thin; the work lives in app.jobs."""

from __future__ import annotations

import logging
import random
from typing import Any

from arq import Retry, cron

from app import jobs
from app.integrations.http import RetryableUpstreamError, UpstreamError
from app.logging import configure_logging
from app.queue import redis_settings
from app.remittance import poller as remittance_poller
from app.remittance import service as remittance_service
from app.services import build_services, worker_pool_size
from app.settings import load_settings_or_exit

log = logging.getLogger("shipbridge.worker")
settings = load_settings_or_exit()


def _retry_later(ctx: dict[str, Any], exc: Exception) -> Retry:
    # Upstream trouble: back off (with jitter) and let arq run the job again, up to max_tries.
    delay = min(300.0, 5.0 * 2 ** (ctx.get("job_try", 1) - 1)) * random.uniform(0.5, 1.0)
    log.warning("job %s will retry in %.0fs: %s", ctx.get("job_id"), delay, exc)
    return Retry(defer=delay)


async def process_inbox_event(ctx: dict[str, Any], event_id: int) -> str:
    try:
        return await jobs.process_inbox_event(ctx["svc"], event_id)
    except RetryableUpstreamError as exc:
        raise _retry_later(ctx, exc) from exc


async def fulfil_order(ctx: dict[str, Any], salesorder_id: str) -> str:
    try:
        return await jobs.fulfil_order(ctx["svc"], salesorder_id)
    except RetryableUpstreamError as exc:
        raise _retry_later(ctx, exc) from exc


async def settle_cod_remittance(ctx: dict[str, Any], remittance_id: str) -> str:
    try:
        return await remittance_service.settle_remittance(ctx["svc"], remittance_id)
    except RetryableUpstreamError as exc:
        raise _retry_later(ctx, exc) from exc


async def poll_cod_remittances(ctx: dict[str, Any]) -> str:
    # A failed poll is simply tried again at the next interval; nothing is half-done.
    try:
        return str(await remittance_poller.poll_remittances(ctx["svc"]))
    except UpstreamError as exc:
        log.warning("remittance poll failed: %s", exc)
        return f"failed: {exc}"


async def sweep(ctx: dict[str, Any]) -> str:
    return str(await jobs.sweep(ctx["svc"]))


async def poll_tracking(ctx: dict[str, Any]) -> str:
    from app.tracking.poller import poll_tracking as poll

    return str(await poll(ctx["svc"]))


async def startup(ctx: dict[str, Any]) -> None:
    configure_logging(settings.LOG_LEVEL)
    ctx["svc"] = build_services(settings, pool_size=worker_pool_size(settings))
    log.info("worker started")


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["svc"].close()


def _sweep_schedule(interval: int) -> dict[str, Any]:
    if interval < 60:
        return {"second": set(range(0, 60, max(1, interval)))}
    return {"minute": set(range(0, 60, max(1, interval // 60))), "second": {0}}


class WorkerSettings:
    functions = [process_inbox_event, fulfil_order, settle_cod_remittance]
    cron_jobs = [cron(sweep, run_at_startup=True, unique=True, **_sweep_schedule(settings.SWEEP_INTERVAL_SECONDS))]
    if settings.REMITTANCE_POLL_INTERVAL_SECONDS > 0:
        cron_jobs.append(cron(poll_cod_remittances, unique=True, timeout=1800,
                              **remittance_poller.poll_schedule(settings.REMITTANCE_POLL_INTERVAL_SECONDS)))
    if settings.TRACKING_POLL_INTERVAL_SECONDS > 0:
        cron_jobs.append(cron(poll_tracking, unique=True, timeout=1800,
                              **_sweep_schedule(settings.TRACKING_POLL_INTERVAL_SECONDS)))
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(settings.REDIS_URL, fail_fast=False)
    max_tries = 6
    job_timeout = 300
    keep_result = 3600
    max_jobs = settings.WORKER_MAX_JOBS
    # arq polls Redis for due jobs; its 0.5 s default would be most of an order's end-to-end latency.
    poll_delay = 0.05
    health_check_interval = 30  # `arq --check` (the compose health check) reads this key
