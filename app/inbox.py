"""The inbox: every authenticated webhook delivery is stored here before we answer, deduplicated by
(source, dedupe_key), and processed by a job after the commit. It is both the idempotency guard and
the record ops can inspect and replay."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import InboxEvent, InboxState

log = logging.getLogger("shipbridge.inbox")

PROCESS_JOB = "process_inbox_event"
MAX_ATTEMPTS = 8  # after this many failed runs an event is parked as `failed` and ops is alerted


class Source:
    zoho_salesorder = "zoho_salesorder"
    tracking = "shiprocket_tracking"
    cod_remittance = "cod_remittance"
    returnprime = "returnprime"


async def store_event(session: AsyncSession, *, source: str, dedupe_key: str, body: bytes, content_type: str,
                      state: str = InboxState.pending, reason: str | None = None,
                      subject: str | None = None) -> tuple[int | None, bool]:
    """Insert the delivery; returns (event id, duplicate). A duplicate returns the id of nothing new."""
    stmt = (insert(InboxEvent)
            .values(source=source, dedupe_key=dedupe_key[:200], body=body, content_type=content_type[:200],
                    state=state, reason=reason, subject=subject, received_at=datetime.now(UTC),
                    processed_at=datetime.now(UTC) if state != InboxState.pending else None)
            .on_conflict_do_nothing(constraint="uq_inbox_source_dedupe")
            .returning(InboxEvent.id))
    event_id = (await session.execute(stmt)).scalar_one_or_none()
    return event_id, event_id is None


async def mark(session: AsyncSession, event_id: int, state: str, reason: str | None = None) -> None:
    await session.execute(update(InboxEvent).where(InboxEvent.id == event_id)
                          .values(state=state, reason=reason, processed_at=datetime.now(UTC)))


def job_id(event_id: int, suffix: str = "") -> str:
    return f"inbox:{event_id}{':' + suffix if suffix else ''}"
