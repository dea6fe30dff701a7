"""The one way Shipbridge calls an upstream: a shared httpx.AsyncClient, a timeout on every call,
bounded retries with full-jitter backoff for what is worth retrying (timeouts, connection errors,
429 honouring Retry-After, 5xx whose bodies may be HTML), and typed errors that carry the upstream's
own message (never our credentials)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.metrics import observe_upstream

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Answers that count against an upstream's health on the dashboard (a 4xx refusal of one order does not).
UNHEALTHY_STATUS = RETRYABLE_STATUS | {401, 403}


class UpstreamError(Exception):
    """An upstream call failed. `retryable` says whether trying again later can help."""

    retryable = False

    def __init__(self, service: str, message: str, *, status: int | None = None, code: Any = None,
                 body: Any = None) -> None:
        self.service = service
        self.status = status
        self.code = code
        self.body = body
        self.upstream_message = message
        where = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{service}{where}: {message}")


class RetryableUpstreamError(UpstreamError):
    retryable = True


class PermanentUpstreamError(UpstreamError):
    """The upstream refused the request itself (4xx, or an error inside a 200): retrying unchanged won't help."""


class UpstreamAuthError(RetryableUpstreamError):
    """Our credentials were refused (a 401 after a fresh token, a refused login or refresh). Nothing is
    wrong with the order, so it is retried later, not failed; ops is alerted to fix the credentials."""


@dataclass
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0

    def backoff(self, attempt: int) -> float:
        # Full jitter: spreads retries of many workers so they don't hit the upstream in lockstep.
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # HTTP-date form: fall back to our own backoff


_TAGS = re.compile(r"<[^>]+>")


def upstream_message(response: httpx.Response) -> str:
    """The upstream's own words: JSON `message`/`error` when present, else the text of an HTML page."""
    body = parse_body(response)
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            if body.get(key):
                msg = body[key]
                errors = body.get("errors")
                if isinstance(errors, dict) and errors:
                    details = "; ".join(f"{k}: {', '.join(map(str, v if isinstance(v, list) else [v]))}"
                                        for k, v in errors.items())
                    return f"{msg} ({details})"
                return str(msg)
    text = _TAGS.sub(" ", response.text or "")
    text = " ".join(text.split())
    return text[:300] or response.reason_phrase or "no body"


def parse_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None


async def request_with_retries(
    client: httpx.AsyncClient,
    service: str,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    data: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    retry_uncertain: bool = True,
) -> httpx.Response:
    """Send one logical request; retry only transient failures. Returns the final response for the
    caller to interpret (a 4xx comes back, not raised, because each API words refusals differently).

    `retry_uncertain=False` is for writes that must not happen twice and that the upstream cannot
    deduplicate (a partial Books payment): then only failures where the request surely was not
    processed (connection refused, 429) are retried here; a timeout or 5xx after sending raises, and the
    caller checks upstream state before trying again."""
    attempt = 0
    while True:
        started = time.perf_counter()
        try:
            response = await client.request(method, url, headers=headers, params=params, json=json_body,
                                            data=data, timeout=timeout)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            observe_upstream(service, _path(url), "error", time.perf_counter() - started,
                             error=f"{type(exc).__name__} calling {method} {_path(url)}")
            never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
            if attempt >= policy.max_retries or (not retry_uncertain and not never_sent):
                raise RetryableUpstreamError(service, f"{type(exc).__name__} calling {method} {_path(url)}") from None
            delay = policy.backoff(attempt)
        else:
            observe_upstream(service, _path(url), response.status_code, time.perf_counter() - started,
                             error=f"{response.status_code}: {upstream_message(response)}"
                             if response.status_code in UNHEALTHY_STATUS else None)
            if response.status_code not in RETRYABLE_STATUS:
                return response
            if attempt >= policy.max_retries or (not retry_uncertain and response.status_code != 429):
                raise RetryableUpstreamError(service, upstream_message(response), status=response.status_code,
                                             body=parse_body(response))
            hinted = retry_after_seconds(response) if response.status_code == 429 else None
            delay = min(policy.backoff(attempt) if hinted is None else hinted, policy.max_delay)
            log.warning("%s %s %s answered %s; retry %d in %.2fs", service, method, _path(url),
                        response.status_code, attempt + 1, delay)
        attempt += 1
        await asyncio.sleep(delay)


def _path(url: str) -> str:
    # Log the path only: query strings may carry credentials (Zoho's token endpoint does).
    return httpx.URL(url).path
