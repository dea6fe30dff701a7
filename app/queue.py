"""Enqueueing arq jobs. Redis may be down: enqueue then reports False instead of raising, because the
inbox row in Postgres is already the durable record and the sweeper will enqueue it later."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def redis_settings(url: str, *, fail_fast: bool = True) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    if fail_fast:
        # A webhook must never wait on a dead Redis: the sweeper will catch up. (The worker, which
        # cannot work without Redis, keeps arq's patient reconnects instead.)
        settings.conn_timeout = 2
        settings.conn_retries = 0
    return settings


class Queue:
    def __init__(self, redis_url: str) -> None:
        self._settings = redis_settings(redis_url)
        self._pool: ArqRedis | None = None

    async def pool(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(self._settings, retry=0)
        return self._pool

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None,
                      defer_by: float | None = None) -> bool:
        try:
            pool = await self.pool()
            job = await pool.enqueue_job(function, *args, _job_id=job_id,
                                         _defer_by=timedelta(seconds=defer_by) if defer_by else None)
        except (RedisError, OSError, ConnectionError) as exc:
            log.warning("could not enqueue %s (%s); the sweeper will pick it up", function, type(exc).__name__)
            await self.close()
            return False
        if job is None:
            log.info("job %s already queued or kept; not enqueued again", job_id)
        return True

    async def close(self) -> None:
        if self._pool is not None:
            try:
                await self._pool.aclose()
            except (RedisError, OSError, ConnectionError):
                pass
            self._pool = None
