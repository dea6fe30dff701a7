"""Return Prime's API, I/O only: one request by id, and the list (for the poller). Auth is the raw app
token in `x-rp-token` (no Bearer); every answer is `{status, message, data}` and `status: false` is a
refusal even under HTTP 200 (integrators check both)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx

from app.integrations.http import (
    PermanentUpstreamError,
    RetryPolicy,
    UpstreamAuthError,
    request_with_retries,
    upstream_message,
)
from app.integrations.paths import checked_path
from app.integrations.returnprime.models import REQUEST_ID, ReturnRequest, parse_request

SERVICE = "returnprime"
PATH = "/return-exchange/v2"
MAX_PAGES = 200  # pagination is undocumented: a page that never ends must not hold the poller forever


class ReturnPrimeClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, policy: RetryPolicy) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._token = token
        self._policy = policy

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        checked_path(SERVICE, path)  # a request id from a webhook body must not steer the call
        response = await request_with_retries(self._http, SERVICE, "GET", f"{self._base}{path}",
                                              policy=self._policy, headers={"x-rp-token": self._token},
                                              params=params)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code in (401, 403):
            raise UpstreamAuthError(SERVICE, upstream_message(response), status=response.status_code, body=body)
        if response.status_code >= 400 or not isinstance(body, dict) or body.get("status") is False:
            message = body.get("message") if isinstance(body, dict) else None
            raise PermanentUpstreamError(SERVICE, str(message or upstream_message(response)),
                                         status=response.status_code, body=body,
                                         code=body.get("message_code") if isinstance(body, dict) else None)
        return body

    async def get_request(self, request_id: str) -> ReturnRequest:
        if not REQUEST_ID.match(request_id):  # the API answers 412 GLOBAL_E2 for anything else
            raise PermanentUpstreamError(SERVICE, f"not a request id: {request_id[:40]!r}")
        body = await self._get(f"{PATH}/{request_id}")
        data = body.get("data") or {}
        found = data.get("request") if isinstance(data, dict) else None
        if not isinstance(found, dict):
            raise PermanentUpstreamError(SERVICE, "answer has no data.request", body=body)
        return parse_request(found)

    async def list_requests(self, created_min: date, created_max: date) -> AsyncIterator[ReturnRequest]:
        """Every request created in [created_min, created_max] (dates, as the API takes them)."""
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            body = await self._get(PATH, {"page": page, "created_at_min": created_min.isoformat(),
                                          "created_at_max": created_max.isoformat()})
            data = body.get("data") or {}
            items = [item for item in data.get("list") or [] if isinstance(item, dict)]
            fresh = [item for item in items if str(item.get("id")) not in seen]
            if not fresh:  # an empty page, or one repeating the last: the end, whatever hasNextPage says
                return
            for item in fresh:
                seen.add(str(item.get("id")))
                try:
                    yield parse_request(item)
                except ValueError:
                    continue
            if not data.get("hasNextPage"):
                return
