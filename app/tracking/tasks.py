"""The arq jobs tracking registers (workers/main.py collects every domain's): the missed-webhook poller."""

from __future__ import annotations

from app.schedule import Cron, Job
from app.services import Services


async def poll_tracking(svc: Services) -> str:
    from app.tracking.poller import poll_tracking as poll

    return str(await poll(svc))


JOBS: list[Job] = []
CRONS = [Cron("poll_tracking", poll_tracking, interval=lambda s: s.TRACKING_POLL_INTERVAL_SECONDS, minute_offset=3,
              enabled=lambda s: s.TRACKING_POLL_INTERVAL_SECONDS > 0)]
