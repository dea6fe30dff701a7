"""arq cron fields for "every N seconds" — one place, so every periodic job is scheduled the same way."""

from __future__ import annotations

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
