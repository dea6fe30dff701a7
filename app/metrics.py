"""Prometheus metrics. Counters live in the process that does the work: the API counts webhooks, the
worker counts jobs and upstream calls (scrape both: the API's /metrics, the worker's WORKER_METRICS_PORT).
Gauges that describe the whole deployment (shipments by status, queue depth, Zoho budget) are read from
Postgres and Redis at scrape time, so any one process tells the truth about them."""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

WEBHOOKS = Counter("shipbridge_webhooks_total", "Webhook deliveries by source and outcome",
                   ["source", "outcome"])
JOBS = Counter("shipbridge_jobs_total", "Jobs run by name and outcome", ["name", "outcome"])
JOB_SECONDS = Histogram("shipbridge_job_duration_seconds", "Job duration", ["name"],
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
UPSTREAM_CALLS = Counter("shipbridge_upstream_calls_total", "Upstream HTTP calls",
                         ["upstream", "endpoint", "status"])
UPSTREAM_SECONDS = Histogram("shipbridge_upstream_call_duration_seconds", "Upstream call latency",
                             ["upstream", "endpoint"],
                             buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20))
SHIPMENTS = Gauge("shipbridge_shipments", "Shipments by fulfilment state", ["state"])
QUEUE_DEPTH = Gauge("shipbridge_queue_depth", "Jobs waiting in the arq queue")
QUEUE_OLDEST = Gauge("shipbridge_queue_oldest_job_age_seconds", "Age of the oldest queued job")
ZOHO_BUDGET_USED = Gauge("shipbridge_zoho_budget_used", "Zoho calls used in the current budget window")
ZOHO_BUDGET_LIMIT = Gauge("shipbridge_zoho_budget_limit", "Zoho calls allowed per budget window")

_ID_SEGMENT = re.compile(r"/(?=[^/]*\d{3})[^/]+")  # ids have digits; "v1" is a version


def endpoint_label(path: str) -> str:
    """`/api/v1/salesorders/4600000123` -> `/api/v1/salesorders/{id}`: a bounded label set."""
    return _ID_SEGMENT.sub("/{id}", path)[:80] or "/"


@dataclass
class UpstreamHealth:
    """This process's recent calls to one upstream: the last 200 outcomes and the last error."""

    recent: deque[bool] = field(default_factory=lambda: deque(maxlen=200))  # True = error
    last_error: str | None = None
    last_error_at: str | None = None
    last_call_at: str | None = None

    def view(self) -> dict[str, Any]:
        calls = len(self.recent)
        errors = sum(self.recent)
        return {"recent_calls": calls, "recent_errors": errors,
                "error_rate": round(errors / calls, 3) if calls else 0.0,
                "last_error": self.last_error, "last_error_at": self.last_error_at,
                "last_call_at": self.last_call_at}


UPSTREAM_HEALTH: dict[str, UpstreamHealth] = {}


def observe_upstream(upstream: str, path: str, status: int | str, seconds: float,
                     error: str | None = None) -> None:
    endpoint = endpoint_label(path)
    UPSTREAM_CALLS.labels(upstream, endpoint, str(status)).inc()
    UPSTREAM_SECONDS.labels(upstream, endpoint).observe(seconds)
    health = UPSTREAM_HEALTH.setdefault(upstream, UpstreamHealth())
    now = datetime.now(UTC).isoformat()
    failed = error is not None
    health.recent.append(failed)
    health.last_call_at = now
    if failed:
        health.last_error = (error or f"HTTP {status} from {endpoint}")[:300]
        health.last_error_at = now


class JobTimer:
    """`with JobTimer(name) as t: ...; t.outcome = "..."` counts the job and its duration."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.outcome = "ok"

    def __enter__(self) -> JobTimer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        outcome = self.outcome if exc_type is None else ("retry" if "Retry" in exc_type.__name__ else "error")
        JOBS.labels(self.name, outcome).inc()
        JOB_SECONDS.labels(self.name).observe(time.perf_counter() - self.started)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
