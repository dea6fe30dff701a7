"""arq worker: `arq workers.main.WorkerSettings`. Job functions are thin; the work lives in app.jobs."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from arq import Retry, cron
from arq.worker import Function, func
from prometheus_client import start_http_server

from app import jobs
from app.fulfilment.service import FULFIL_JOB, fulfil
from app.inbox import PROCESS_JOB
from app.integrations.http import RetryableUpstreamError, UpstreamError
from app.logging import configure_logging, log_context
from app.metrics import JobTimer
from app.ops.health import heartbeat_loop
from app.queue import redis_settings
from app.remittance import poller as remittance_poller
from app.remittance import service as remittance_service
from app.schedule import every
from app.services import build_services, worker_pool_size
from app.settings import load_settings_or_exit

log = logging.getLogger("shipbridge.worker")
settings = load_settings_or_exit()


def retrying(name: str, job: Callable[..., Awaitable[str]]) -> Function:
    """The arq job `name` running `job(svc, *args)`. Upstream trouble (RetryableUpstreamError): back off
    with jitter and let arq run it again, up to max_tries; the sweeper picks up whatever is left."""

    async def run(ctx: dict[str, Any], *args: Any) -> str:
        try:
            with log_context(job_id=ctx.get("job_id"), **_subject(name, args)), JobTimer(name):
                return await job(ctx["svc"], *args)
        except RetryableUpstreamError as exc:
            delay = min(300.0, 5.0 * 2 ** (ctx.get("job_try", 1) - 1)) * random.uniform(0.5, 1.0)
            log.warning("job %s will retry in %.0fs: %s", ctx.get("job_id"), delay, exc)
            raise Retry(defer=delay) from exc

    return func(run, name=name)


def _subject(name: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The id a job is about, so every line it logs carries it."""
    if not args:
        return {}
    key = {PROCESS_JOB: "event_id", FULFIL_JOB: "salesorder_id",
           remittance_service.SETTLE_JOB: "remittance_id"}.get(name, "subject")
    return {key: args[0]}


process_inbox_event = retrying(PROCESS_JOB, jobs.process_inbox_event)
fulfil_order = retrying(FULFIL_JOB, fulfil)
settle_cod_remittance = retrying(remittance_service.SETTLE_JOB, remittance_service.settle_remittance)


async def poll_cod_remittances(ctx: dict[str, Any]) -> str:
    # A failed poll is simply tried again at the next interval; nothing is half-done.
    try:
        return str(await remittance_poller.poll_remittances(ctx["svc"]))
    except UpstreamError as exc:
        log.warning("remittance poll failed: %s", exc)
        return f"failed: {exc}"


async def sweep(ctx: dict[str, Any]) -> str:
    with JobTimer("sweep"):
        return str(await jobs.sweep(ctx["svc"]))


async def poll_tracking(ctx: dict[str, Any]) -> str:
    from app.tracking.poller import poll_tracking as poll

    return str(await poll(ctx["svc"]))


async def poll_returnprime(ctx: dict[str, Any]) -> str:
    from app.returns_portal.service import poll_returnprime as poll

    try:
        return str(await poll(ctx["svc"]))
    except UpstreamError as exc:  # the next interval tries again; each request is idempotent
        log.warning("Return Prime poll failed: %s", exc)
        return f"failed: {exc}"


async def startup(ctx: dict[str, Any]) -> None:
    configure_logging(settings.LOG_LEVEL, json=settings.LOG_FORMAT != "console")
    ctx["svc"] = build_services(settings, pool_size=worker_pool_size(settings))
    # /readyz reads this heartbeat (and the dashboard the upstream health it carries).
    ctx["heartbeat"] = asyncio.create_task(heartbeat_loop(ctx["svc"].queue))
    if settings.WORKER_METRICS_PORT:
        try:
            start_http_server(settings.WORKER_METRICS_PORT)  # jobs and upstream calls are counted here
        except OSError as exc:  # a second worker on the same host: its metrics are not worth a crash
            log.warning("worker metrics port %s unavailable: %s", settings.WORKER_METRICS_PORT, exc)
    log.info("worker started")


async def shutdown(ctx: dict[str, Any]) -> None:
    if "heartbeat" in ctx:
        ctx["heartbeat"].cancel()
    await ctx["svc"].close()


class WorkerSettings:
    functions = [process_inbox_event, fulfil_order, settle_cod_remittance]
    cron_jobs = [cron(sweep, run_at_startup=True, unique=True, **every(settings.SWEEP_INTERVAL_SECONDS))]
    if settings.REMITTANCE_POLL_INTERVAL_SECONDS > 0:
        cron_jobs.append(cron(poll_cod_remittances, unique=True, timeout=1800,
                              **every(settings.REMITTANCE_POLL_INTERVAL_SECONDS, minute_offset=7)))
    if settings.TRACKING_POLL_INTERVAL_SECONDS > 0:
        cron_jobs.append(cron(poll_tracking, unique=True, timeout=1800,
                              **every(settings.TRACKING_POLL_INTERVAL_SECONDS, minute_offset=3)))
    # Only for sellers using Return Prime (a token set): others would get a credentials alert every run.
    if settings.RETURNPRIME_POLL_INTERVAL_SECONDS > 0 and settings.RETURNPRIME_TOKEN.get_secret_value():
        cron_jobs.append(cron(poll_returnprime, unique=True, timeout=1800,
                              **every(settings.RETURNPRIME_POLL_INTERVAL_SECONDS, minute_offset=11)))
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(settings.REDIS_URL, fail_fast=False)
    max_tries = 6
    job_timeout = 300
    keep_result = 3600
    max_jobs = settings.WORKER_MAX_JOBS
    # arq polls Redis for due jobs; its 0.5 s default would be most of an order's end-to-end latency, and
    # even 50 ms is a fifth of the budget over the upstream floor (docs/BENCHMARKS.md). A poll is one cheap
    # Redis command (100 a second idle).
    poll_delay = settings.WORKER_POLL_DELAY_SECONDS
    health_check_interval = 30  # `arq --check` (the compose health check) reads this key
