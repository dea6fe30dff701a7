"""The arq jobs returns_portal registers (workers/main.py collects every domain's): the Return Prime poller."""

from __future__ import annotations

import logging

from app.integrations.http import UpstreamError
from app.schedule import Cron, Job
from app.services import Services

log = logging.getLogger("shipbridge.worker")


async def poll_returnprime(svc: Services) -> str:
    from app.returns_portal.service import poll_returnprime as poll

    try:
        return str(await poll(svc))
    except UpstreamError as exc:  # the next interval tries again; each request is idempotent
        log.warning("Return Prime poll failed: %s", exc)
        return f"failed: {exc}"


JOBS: list[Job] = []
# Only for sellers using Return Prime (a token set): others would get a credentials alert every run.
CRONS = [Cron("poll_returnprime", poll_returnprime, interval=lambda s: s.RETURNPRIME_POLL_INTERVAL_SECONDS,
              minute_offset=11, enabled=lambda s: s.RETURNPRIME_POLL_INTERVAL_SECONDS > 0
              and bool(s.RETURNPRIME_TOKEN.get_secret_value()))]
