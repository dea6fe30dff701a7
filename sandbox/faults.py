"""Fault switches shared by the simulators: latency, HTTP errors (429 with Retry-After, 5xx with
HTML bodies, 401) and any canned response, injected per path for the next N requests."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

NGINX_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
           504: "Gateway Time-out"}


@dataclass
class Fault:
    """One injected behaviour for requests whose path matches `path` (fnmatch pattern, method optional)."""

    path: str
    times: int
    status: int = 200
    body: Any = None  # dict -> JSON, str -> HTML/text, None -> nothing
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    method: str | None = None
    after: bool = False  # let the request through first, then answer with the fault: a lost reply
    skip: int = 0  # let this many matching requests through untouched before the fault applies
    # Hold the caller (after serving the request if `after`) until release(): the moment a test kills
    # the process waiting on the reply. `tripped` says a request is being held.
    hold: bool = False
    tripped: bool = False
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)


class FaultBox:
    """Holds injected faults and global latency; `middleware` applies them before the real route."""

    def __init__(self, strip_prefix: str = "") -> None:
        self.strip_prefix = strip_prefix
        self.faults: list[Fault] = []
        self.latency: float = 0.0
        self.path_latency: dict[str, float] = {}
        self.chaos_rate = 0.0
        self.chaos_timeout = 0.0
        self.chaos_rng = random.Random(0)
        self.chaos_injected: dict[str, int] = {}

    def reset(self) -> None:
        for fault in self.faults:
            fault.release()  # nothing stays held past a test
        self.faults.clear()
        self.latency = 0.0
        self.path_latency.clear()
        self.chaos_rate = 0.0
        self.chaos_injected = {}

    def inject(self, path: str, *, status: int = 200, body: Any = None, times: int = 1,
               headers: dict[str, str] | None = None, delay: float = 0.0, method: str | None = None,
               after: bool = False, skip: int = 0, hold: bool = False) -> Fault:
        """`after=True`: the request is served (state changes) but the caller gets the fault instead,
        as when an upstream commits and its reply is lost."""
        fault = Fault(path=path, times=times, status=status, body=body, headers=headers or {},
                      delay=delay, method=method, after=after, skip=skip, hold=hold)
        self.faults.append(fault)
        return fault

    def trap(self, path: str, *, method: str | None = None, skip: int = 0, served: bool = True) -> Fault:
        """Hold the (skip+1)-th matching request, served first when `served`, until the fault is released."""
        return self.inject(path, status=503, body={"message": "held by a test trap"}, method=method,
                           after=served, skip=skip, hold=True)

    def rate_limit(self, path: str = "*", *, retry_after: int = 1, times: int = 1, body: Any = None) -> Fault:
        return self.inject(path, status=429, times=times, headers={"Retry-After": str(retry_after)},
                           body=body if body is not None else {"message": "Too Many Attempts.", "status_code": 429})

    def server_error(self, path: str = "*", *, status: int = 502, times: int = 1) -> Fault:
        return self.inject(path, status=status, times=times,
                           body=NGINX_HTML.format(status=status, reason=REASONS.get(status, "Error")))

    def chaos(self, rate: float, *, timeout: float = 0.0, seed: int = 0) -> None:
        """From now on a `rate` share of requests (not otherwise faulted) misbehave the way real gateways
        do: HTML 502/503 (half of them after the upstream did the work), 429 with Retry-After, and, with
        `timeout` > 0, a reply slower than the client waits (again half after the work)."""
        self.chaos_rate, self.chaos_timeout, self.chaos_rng = rate, timeout, random.Random(seed)

    def _chaos(self) -> Fault | None:
        if not self.chaos_rate or self.chaos_rng.random() >= self.chaos_rate:
            return None
        kinds = ["502-html", "503-html-after", "429"] + (["timeout", "timeout-after"] if self.chaos_timeout else [])
        kind = self.chaos_rng.choice(kinds)
        self.chaos_injected[kind] = self.chaos_injected.get(kind, 0) + 1
        if kind == "429":
            return Fault("*", 1, status=429, headers={"Retry-After": "1"},
                         body={"message": "Too Many Attempts.", "status_code": 429})
        if kind.startswith("timeout"):
            return Fault("*", 1, status=504, delay=self.chaos_timeout, after=kind.endswith("after"),
                         body=NGINX_HTML.format(status=504, reason=REASONS[504]))
        status = int(kind[:3])
        return Fault("*", 1, status=status, after=kind.endswith("after"),
                     body=NGINX_HTML.format(status=status, reason=REASONS[status]))

    def set_latency(self, seconds: float, path: str | None = None) -> None:
        if path is None:
            self.latency = seconds
        else:
            self.path_latency[path] = seconds

    def _take(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.matches(method, path):
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                return fault
        return None

    async def middleware(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if self.strip_prefix and path.startswith(self.strip_prefix):
            path = path[len(self.strip_prefix):] or "/"
        delay = self.latency + sum(s for p, s in self.path_latency.items() if fnmatch.fnmatchcase(path, p))
        if delay:
            await asyncio.sleep(delay)
        fault = self._take(request.method, path) or self._chaos()
        if fault is None:
            return await call_next(request)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.after:
            await call_next(request)
        if fault.hold:
            fault.tripped = True
            deadline = time.monotonic() + 120
            while not fault.released.is_set() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        if isinstance(fault.body, (dict, list)):
            return JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
        if isinstance(fault.body, str):
            return HTMLResponse(fault.body, status_code=fault.status, headers=fault.headers)
        return Response(status_code=fault.status, headers=fault.headers)


def json_dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
