"""arq worker: `arq workers.main.WorkerSettings`. It runs what each domain's tasks.py registers (and the
spine's inbox processing and sweeper, app.jobs); the work lives there, this file only wires it up."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from arq import Retry, cron
from arq.cron import CronJob
from arq.worker import Function, func
from prometheus_client import start_http_server

from app import jobs
from app.fulfilment import tasks as fulfilment_tasks
from app.integrations.http import RetryableUpstreamError
from app.logging import configure_logging, log_context
from app.metrics import JobTimer
from app.ops.health import heartbeat_loop
from app.queue import redis_settings
from app.remittance import tasks as remittance_tasks
from app.returns_portal import tasks as returns_portal_tasks
from app.schedule import Cron, Job, every
from app.services import build_services, worker_pool_size
from app.settings import load_settings_or_exit
from app.tracking import tasks as tracking_tasks

log = logging.getLogger("shipbridge.worker")
settings = load_settings_or_exit()


# Every module that registers jobs: the spine (inbox processing, the sweeper) and each domain's tasks.py.
TASKS = (jobs, fulfilment_tasks, tracking_tasks, remittance_tasks, returns_portal_tasks)


def retrying(job: Job) -> Function:
    """The arq job running `job.run(svc, *args)`. Upstream trouble (RetryableUpstreamError): back off
    with jitter and let arq run it again, up to max_tries; the sweeper picks up whatever is left."""

    async def run(ctx: dict[str, Any], *args: Any) -> str:
        try:
            subject = {job.subject: args[0]} if args else {}
            with log_context(job_id=ctx.get("job_id"), **subject), JobTimer(job.name):
                return await job.run(ctx["svc"], *args)
        except RetryableUpstreamError as exc:
            delay = min(300.0, 5.0 * 2 ** (ctx.get("job_try", 1) - 1)) * random.uniform(0.5, 1.0)
            log.warning("job %s will retry in %.0fs: %s", ctx.get("job_id"), delay, exc)
            raise Retry(defer=delay) from exc

    return func(run, name=job.name)


def scheduled(periodic: Cron) -> CronJob:
    async def run(ctx: dict[str, Any]) -> str:
        return await periodic.run(ctx["svc"])

    return cron(run, name=f"cron:{periodic.name}", unique=True, timeout=periodic.timeout,
                run_at_startup=periodic.run_at_startup,
                **every(periodic.interval(settings), minute_offset=periodic.minute_offset))


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
    functions = [retrying(job) for module in TASKS for job in module.JOBS]
    cron_jobs = [scheduled(periodic) for module in TASKS for periodic in module.CRONS if periodic.enabled(settings)]
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
