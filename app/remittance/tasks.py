"""The arq jobs remittance registers (workers/main.py collects every domain's): settling a stored batch,
and the poller of Shiprocket's remittance API."""

from __future__ import annotations

import logging

from app.integrations.http import UpstreamError
from app.remittance import poller as remittance_poller
from app.remittance import service as remittance_service
from app.schedule import Cron, Job
from app.services import Services

log = logging.getLogger("shipbridge.worker")


async def poll_cod_remittances(svc: Services) -> str:
    # A failed poll is simply tried again at the next interval; nothing is half-done.
    try:
        return str(await remittance_poller.poll_remittances(svc))
    except UpstreamError as exc:
        log.warning("remittance poll failed: %s", exc)
        return f"failed: {exc}"


JOBS = [Job(remittance_service.SETTLE_JOB, remittance_service.settle_remittance, subject="remittance_id")]
CRONS = [Cron("poll_cod_remittances", poll_cod_remittances, interval=lambda s: s.REMITTANCE_POLL_INTERVAL_SECONDS,
              minute_offset=7, enabled=lambda s: s.REMITTANCE_POLL_INTERVAL_SECONDS > 0)]
