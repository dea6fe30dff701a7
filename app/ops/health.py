"""Is this deployment able to work? Postgres and Redis answer, the schema is at the newest migration,
and a worker is alive (it writes a heartbeat to Redis every few seconds, with its upstream health)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from alembic.script import ScriptDirectory
from redis.exceptions import RedisError
from sqlalchemy import text

from app.metrics import UPSTREAM_HEALTH
from app.migrate import alembic_config
from app.queue import Queue
from app.services import Services

log = logging.getLogger("shipbridge.health")

HEARTBEAT_KEY = "shipbridge:worker:heartbeat"
UPSTREAM_KEY = "shipbridge:upstream-health"
HEARTBEAT_INTERVAL_SECONDS = 10.0
REDIS_ERRORS = (RedisError, OSError, ConnectionError, asyncio.TimeoutError)


@lru_cache
def migration_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def write_heartbeat(queue: Queue) -> None:
    pool = await queue.pool()
    now = time.time()
    await pool.set(HEARTBEAT_KEY, str(now), ex=3600)
    for name, health in UPSTREAM_HEALTH.items():
        await pool.hset(UPSTREAM_KEY, name, json.dumps(health.view()))  # type: ignore[misc]


async def heartbeat_loop(queue: Queue, interval: float = HEARTBEAT_INTERVAL_SECONDS) -> None:
    """Run in the worker for its whole life: a missed beat is only logged (Redis may be restarting)."""
    while True:
        try:
            await write_heartbeat(queue)
        except REDIS_ERRORS as exc:
            log.warning("worker heartbeat not written: %s", type(exc).__name__)
            await queue.close()
        await asyncio.sleep(interval)


async def worker_heartbeat_age(queue: Queue) -> float | None:
    raw = await (await queue.pool()).get(HEARTBEAT_KEY)
    return None if raw is None else max(0.0, time.time() - float(raw))


async def upstream_health(queue: Queue) -> dict[str, Any]:
    """The worker's view (it makes the calls) merged over this process's own."""
    out = {name: h.view() for name, h in UPSTREAM_HEALTH.items()}
    try:
        stored = await (await queue.pool()).hgetall(UPSTREAM_KEY)  # type: ignore[misc]
    except REDIS_ERRORS:
        return out
    for name, raw in stored.items():
        out[name.decode() if isinstance(name, bytes) else name] = json.loads(raw)
    return out


async def readiness(svc: Services) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    try:
        async with svc.sessionmaker() as session:
            version = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        checks["postgres"] = "ok"
        heads = migration_heads()
        checks["migrations"] = "ok" if set(version) == heads else (
            f"not at head (database {','.join(version) or 'empty'}, code {','.join(sorted(heads))}): "
            "run `shipbridge migrate`")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        if "alembic_version" in str(exc):
            checks["postgres"] = "ok"
            checks["migrations"] = "never migrated: run `shipbridge migrate`"
        else:
            checks["postgres"] = f"down ({type(exc).__name__})"
            checks["migrations"] = "unknown (postgres down)"
    try:
        age = await asyncio.wait_for(worker_heartbeat_age(svc.queue), timeout=3)
        checks["redis"] = "ok"
        stale = svc.settings.WORKER_HEARTBEAT_STALE_SECONDS
        checks["worker"] = ("no heartbeat: is a worker running?" if age is None
                            else "ok" if age <= stale else f"heartbeat {int(age)}s old (limit {stale}s)")
    except REDIS_ERRORS as exc:
        await svc.queue.close()
        checks["redis"] = f"down ({type(exc).__name__})"
        checks["worker"] = "unknown (redis down)"
    return all(v == "ok" for v in checks.values()), checks


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None
