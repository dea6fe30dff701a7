"""What the worker runs and when: the Job and Cron records each domain's tasks.py registers (workers/main.py
collects them), and arq cron fields for "every N seconds", so every periodic job is scheduled the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


def every(interval_seconds: int, *, minute_offset: int = 0) -> dict[str, Any]:
    """Cron fields for roughly every `interval_seconds` (cron runs on clock boundaries, so intervals
    are rounded to whole seconds under a minute, whole minutes under an hour, whole hours above).
    `minute_offset` moves minute- and hour-scale jobs off the top of the hour, where jobs cluster."""
    if interval_seconds < 60:
        return {"second": set(range(0, 60, max(1, interval_seconds)))}
    if interval_seconds < 3600:
        step = max(1, interval_seconds // 60)
        return {"minute": {(minute_offset + m) % 60 for m in range(0, 60, step)}, "second": {0}}
    return {"hour": set(range(0, 24, max(1, interval_seconds // 3600))), "minute": {minute_offset % 60},
            "second": {0}}


@dataclass(frozen=True)
class Job:
    """An arq job a domain registers in its tasks.py: `run(svc, *args)`. The worker retries it with
    backoff on RetryableUpstreamError; `subject` names its first argument in every line it logs."""

    name: str
    run: Callable[..., Awaitable[str]]
    subject: str = "subject"


@dataclass(frozen=True)
class Cron:
    """A periodic job a domain registers in its tasks.py: `run(svc)` about every `interval(settings)`
    seconds while `enabled(settings)`. arq names it `cron:<name>` (its job ids), so a name never changes."""

    name: str
    run: Callable[[Any], Awaitable[str]]
    interval: Callable[[Any], int]
    minute_offset: int = 0
    timeout: int | None = 1800
    run_at_startup: bool = False
    enabled: Callable[[Any], bool] = field(default=lambda settings: True)
