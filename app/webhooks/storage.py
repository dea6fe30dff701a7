"""The part every webhook endpoint shares: store the delivery (503 if Postgres can't take it), answer
at once, enqueue after the commit in the background so a slow or dead Redis never delays the answer."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.inbox import PROCESS_JOB, job_id, store_event
from app.models import InboxEvent, InboxState
from app.ops.metrics import WEBHOOKS
from app.queue import Queue
from app.webhooks.auth import valid_api_key

log = logging.getLogger("shipbridge.webhooks")

STORAGE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
MAX_BODY_BYTES = 1_000_000


def too_large() -> JSONResponse:
    return JSONResponse({"detail": f"body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)


def unauthorized(what: str) -> JSONResponse:
    return JSONResponse({"detail": f"missing or invalid {what}"}, status_code=401)


async def shiprocket_body(request: Request) -> bytes | JSONResponse:
    """The raw body of a request carrying Shiprocket's shared token in `x-api-key` (it signs nothing),
    or the refusal to answer with: 401 without the token, 413 when too large."""
    token = request.app.state.settings.SHIPROCKET_WEBHOOK_TOKEN.get_secret_value()
    if not valid_api_key(request.headers.get("x-api-key"), token):
        return unauthorized("x-api-key")
    raw = await request.body()
    return too_large() if len(raw) > MAX_BODY_BYTES else raw


async def store_and_answer(app: FastAPI, background: BackgroundTasks, *, source: str, dedupe_key: str,
                           raw: bytes, content_type: str, state: str, reason: str | None,
                           subject: str | None) -> JSONResponse:
    try:
        async with app.state.sessionmaker.begin() as session:
            event_id, duplicate = await store_event(session, source=source, dedupe_key=dedupe_key, body=raw,
                                                    content_type=content_type, state=state, reason=reason,
                                                    subject=subject)
            if duplicate:
                existing = await session.execute(select(InboxEvent.id, InboxEvent.state).where(
                    InboxEvent.source == source, InboxEvent.dedupe_key == dedupe_key[:200]))
                row = existing.first()
                event_id, state = (row[0], row[1]) if row else (None, state)
    except STORAGE_ERRORS as exc:
        log.error("could not store %s webhook: %s", source, type(exc).__name__)
        WEBHOOKS.labels(source, "storage_error").inc()
        return JSONResponse({"detail": "storage unavailable, retry later"}, status_code=503)
    WEBHOOKS.labels(source, "duplicate" if duplicate else str(state)).inc()
    if state == InboxState.pending and not duplicate and event_id is not None:
        background.add_task(enqueue_after_commit, app.state.queue, app.state.sessionmaker, event_id)
    body: dict[str, Any] = {"accepted": state != InboxState.invalid, "duplicate": duplicate,
                            "event_id": event_id, "state": state}
    if reason:
        body["reason"] = reason
    return JSONResponse(body, status_code=200)


async def enqueue_after_commit(queue: Queue, sessionmaker: async_sessionmaker[AsyncSession], event_id: int) -> None:
    """Queue a stored inbox event and note when (the sweeper's hint); a failure leaves it to the sweeper."""
    if await queue.enqueue(PROCESS_JOB, event_id, job_id=job_id(event_id)):
        try:
            async with sessionmaker.begin() as session:
                await session.execute(update(InboxEvent).where(InboxEvent.id == event_id)
                                      .values(enqueued_at=datetime.now(UTC)))
        except STORAGE_ERRORS:
            pass  # only a hint for the sweeper; at worst the event is enqueued once more
