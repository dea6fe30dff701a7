"""Path ids the ops endpoints accept. A NUL byte, a number past Postgres' bigint or an id of arbitrary
characters must be a clear 4xx before it reaches the database (where it would be a 500)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

BIGINT_MAX = 2**63 - 1
# Zoho ids are digit strings (19 digits today); AWBs and remittance ids are letters, digits and a few
# separators. Nothing legitimate has spaces, control characters or is longer than these columns.
SalesorderId = Annotated[str, Path(pattern=r"^[0-9]{1,40}$", description="Zoho salesorder_id (digits)")]
Awb = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,60}$", description="AWB")]
RemittanceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-/]{1,60}$", description="Shiprocket remittance id")]
RowId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="row id")]


class RefuseNulBytes:
    """Raw ASGI middleware: a NUL byte anywhere in the path or query string is refused with 400 for
    every endpoint, ours and future ones, since Postgres cannot store it in a text column."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            raw = scope.get("raw_path") or b""
            query = scope.get("query_string") or b""
            if "\x00" in path or b"%00" in raw.lower() or b"%00" in query or b"\x00" in query:
                await JSONResponse({"detail": "NUL byte in the URL"}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 1e400 parses as inf, which JSON cannot carry back: the 422 itself would 500
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, made safe for any input (infinite numbers, NUL bytes, bytes)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _json_safe(list(errors))}, status_code=422)
