"""The arq jobs fulfilment registers (workers/main.py collects every domain's)."""

from __future__ import annotations

from app.fulfilment.service import FULFIL_JOB, fulfil
from app.schedule import Cron, Job

JOBS = [Job(FULFIL_JOB, fulfil, subject="salesorder_id")]
CRONS: list[Cron] = []
