"""One error class for what a request cannot be granted, and one handler that answers it. Domain code
raises DomainError (or a subclass) with the HTTP status the ops API should answer; app/main.py registers
`domain_error` once, so every endpoint's refusals share one shape:
`{"error": code, "detail": message, ...detail fields}` ("detail" carries the message, as FastAPI's own
404 and 422 answers do, so a client reads every refusal the same way)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse


class DomainError(Exception):
    code = "refused"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.detail = detail or {}

    def body(self) -> dict[str, Any]:
        return {**self.detail, "error": self.code, "detail": self.message}


class NotFound(DomainError):
    code = "not_found"
    status = 404


class UpstreamUnavailable(DomainError):
    """Shiprocket, Shiplee or Zoho failed or is busy: 503 when a retry may succeed, else 502."""

    code = "upstream_failed"

    def __init__(self, message: str, *, retryable: bool, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message, status=503 if retryable else 502, detail=detail)


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, DomainError):  # registered for DomainError only; anything else is not ours to shape
        raise exc
    return JSONResponse(exc.body(), status_code=exc.status)
