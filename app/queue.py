"""Enqueueing arq jobs. Redis may be down: enqueue then reports False instead of raising, because the
inbox row in Postgres is already the durable record and the sweeper will enqueue it later."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

# arq's enqueue_job as one server-side step (its WATCH / EXISTS / MULTI takes three round trips per job):
# skip a job whose id is queued or has a kept result, else store it and put it on the queue. Sent in
# one pipeline for a whole batch, so a burst of webhooks costs one Redis round trip, not three each.
_ENQUEUE_LUA = """
if redis.call('exists', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('psetex', KEYS[1], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[3], ARGV[3], ARGV[4])
return 1
"""


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

    async def enqueue_many(self, function: str, jobs: list[tuple[tuple[Any, ...], str]]) -> bool:
        """Enqueue (args, job_id) pairs exactly as arq's enqueue_job would, in one round trip; False
        when Redis is unreachable (nothing can be said about which were queued: the sweeper decides)."""
        try:
            pool = await self.pool()
            now_ms = int(time.time() * 1000)
            async with pool.pipeline(transaction=False) as pipe:
                for args, job_id in jobs:
                    payload = serialize_job(function, args, {}, None, now_ms, serializer=pool.job_serializer)
                    keys_and_args: list[Any] = [job_key_prefix + job_id, result_key_prefix + job_id,
                                                pool.default_queue_name, pool.expires_extra_ms, payload, now_ms, job_id]
                    pipe.eval(_ENQUEUE_LUA, 3, *keys_and_args)  # the payload is pickled bytes, not str
                await pipe.execute()
        except (RedisError, OSError, ConnectionError) as exc:
            log.warning("could not enqueue %d %s jobs (%s); the sweeper will pick them up", len(jobs), function,
                        type(exc).__name__)
            await self.close()
            return False
        return True

    async def close(self) -> None:
        if self._pool is not None:
            try:
                await self._pool.aclose()
            except (RedisError, OSError, ConnectionError):
                pass
            self._pool = None


class AfterCommit:
    """Jobs that a transaction makes necessary, held until it has committed: a job must never run before
    the rows it reads exist, and a rolled-back change must queue nothing (the buffer is then dropped)."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._jobs: list[tuple[str, tuple[Any, ...], str | None, float | None]] = []
        self.enqueued: bool | None = None  # after the commit: whether every job reached the queue

    def add(self, function: str, *args: Any, job_id: str | None = None, defer_by: float | None = None) -> None:
        self._jobs.append((function, args, job_id, defer_by))

    async def flush(self) -> bool:
        """Enqueue what was added, in order; False if any could not be (the sweeper recovers those)."""
        jobs, self._jobs = self._jobs, []
        results = [await self._queue.enqueue(function, *args, job_id=job_id, defer_by=defer_by)
                   for function, args, job_id, defer_by in jobs]
        self.enqueued = all(results)
        return self.enqueued


@asynccontextmanager
async def commit_then_enqueue(sessionmaker: async_sessionmaker[AsyncSession],
                              queue: Queue) -> AsyncIterator[tuple[AsyncSession, AfterCommit]]:
    """`async with commit_then_enqueue(sm, queue) as (session, jobs)`: one transaction; the jobs added
    to `jobs` are enqueued after it commits, and dropped if it raises."""
    jobs = AfterCommit(queue)
    async with sessionmaker.begin() as session:
        yield session, jobs
    await jobs.flush()
