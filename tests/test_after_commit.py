"""One after-commit enqueue helper: a job is queued only once the transaction that made it necessary has
committed, and a rolled-back transaction queues nothing (real Postgres and Redis)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Alert
from app.queue import commit_then_enqueue
from app.services import Services

JOB = "house_after_commit_probe"


async def _queued(svc: Services, job_id: str) -> bool:
    pool = await svc.queue.pool()
    return bool(await pool.exists(f"arq:job:{job_id}"))


async def _alerts(svc: Services) -> int:
    async with svc.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Alert)) or 0)


async def test_jobs_are_queued_after_the_commit(svc: Services) -> None:
    async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
        session.add(Alert(kind="probe", dedupe_key="probe:1", message="m"))
        jobs.add(JOB, 1, job_id="probe-1")
        assert not await _queued(svc, "probe-1")  # nothing leaves before the commit
    assert await _queued(svc, "probe-1")
    assert await _alerts(svc) == 1


async def test_a_rollback_drops_the_jobs(svc: Services) -> None:
    with pytest.raises(RuntimeError):
        async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
            session.add(Alert(kind="probe", dedupe_key="probe:2", message="m"))
            jobs.add(JOB, 2, job_id="probe-2")
            raise RuntimeError("the step failed")
    assert not await _queued(svc, "probe-2")
    assert await _alerts(svc) == 0


async def test_an_early_return_inside_the_block_still_commits_and_queues_what_was_added(svc: Services) -> None:
    async def step() -> str:
        async with commit_then_enqueue(svc.sessionmaker, svc.queue) as (session, jobs):
            session.add(Alert(kind="probe", dedupe_key="probe:3", message="m"))
            jobs.add(JOB, 3, job_id="probe-3")
            return "early"

    assert await step() == "early"
    assert await _queued(svc, "probe-3") and await _alerts(svc) == 1
