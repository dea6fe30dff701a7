"""Zoho's API limits in the simulator: about 100 calls a minute per organisation and a daily quota per
plan, both answered with HTTP 429 (zoho-api-facts §6), and the `X-Rate-Limit-*` headers real responses
carry (limit = the day's quota, remaining, seconds to the reset). Off unless a limit is set.

`clock_scale` runs the limits' clock faster (60 = a minute passes in one second) so a benchmark can
drain a backlog at Zoho's pace in minutes; Shipbridge's limiter window is scaled the same way.

Choices where the material is silent: the minute is a sliding 60-second window; the bodies are Zoho's
envelope with codes 44 (per minute) and 45 (per day), two of the throttling codes clients report, and
no Retry-After (whether Zoho sends one is uncertain); the day turns at midnight of the sim's clock."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PER_MINUTE_CODE, PER_DAY_CODE = 44, 45


class ZohoQuota:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.per_minute = 0  # 0 = not enforced
            self.per_day = 0
            self.clock_scale = 1.0
            self.day_used = 0
            self.refused = 0  # 429s answered (a benchmark checks it stays 0)
            self._recent: deque[float] = deque()
            self._day_started = time.monotonic()

    def configure(self, *, per_minute: int = 0, per_day: int = 0, clock_scale: float = 1.0) -> None:
        with self._lock:
            self.per_minute, self.per_day, self.clock_scale = per_minute, per_day, clock_scale
            self._recent.clear()
            self.day_used = 0
            self._day_started = time.monotonic()

    def _now(self) -> float:
        """Simulated seconds: real seconds times the scale."""
        return time.monotonic() * self.clock_scale

    def admit(self) -> tuple[int, str] | None:
        """Count one API call; None when it may proceed, else (code, message) of Zoho's refusal."""
        with self._lock:
            now = self._now()
            if self.per_day and now - self._day_started * self.clock_scale >= 86400:
                self._day_started, self.day_used = time.monotonic(), 0
            if self.per_day and self.day_used >= self.per_day:
                self.refused += 1
                return PER_DAY_CODE, ("You have reached the maximum number of API calls allowed for your "
                                      "organization today. Please try again tomorrow.")
            if self.per_minute:
                while self._recent and self._recent[0] <= now - 60:
                    self._recent.popleft()
                if len(self._recent) >= self.per_minute:
                    self.refused += 1
                    return PER_MINUTE_CODE, ("You have exceeded the maximum number of API requests allowed per "
                                             "minute. Please try again after some time.")
                self._recent.append(now)
            self.day_used += 1
            return None

    def headers(self) -> dict[str, str]:
        if not self.per_day:
            return {}
        with self._lock:
            reset_in = max(0, int(86400 - (self._now() - self._day_started * self.clock_scale)))
            return {"X-Rate-Limit-Limit": str(self.per_day),
                    "X-Rate-Limit-Remaining": str(max(0, self.per_day - self.day_used)),
                    "X-Rate-Limit-Reset": str(reset_in)}

    async def middleware(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith("/oauth/") or not (self.per_minute or self.per_day):
            return await call_next(request)
        refusal = self.admit()
        if refusal is not None:
            code, message = refusal
            return JSONResponse({"code": code, "message": message}, status_code=429, headers=self.headers())
        response = await call_next(request)
        response.headers.update(self.headers())
        return response
