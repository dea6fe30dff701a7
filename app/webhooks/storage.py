"""Storing a webhook delivery in the inbox and queueing it, at the cost durability needs and no more.

A delivery is stored by one autocommitted statement on a plain asyncpg pool (one round trip; the ORM
session's BEGIN / pre-ping / COMMIT were four), which also answers for a duplicate. It is queued after
the answer, in batches (one Redis round trip per batch), because the row is the guarantee: a job that
is lost or never sent is found again by the sweeper. What Postgres refuses because of the data is the
sender's problem (kept as invalid); only an unreachable Postgres is ours (503)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from app.inbox import PROCESS_JOB, job_id
from app.queue import Queue
from app.settings import sqlalchemy_url
from app.web.inbound import Delivery

log = logging.getLogger("shipbridge.webhooks")

STORAGE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
# Refused because of what the delivery holds (bad encoding, too long, out of range), not because
# Postgres is unwell: retrying would fail the same way forever.
UNSTORABLE = (asyncpg.DataError, UnicodeError)
MAX_BATCH = 64  # bounds how long one batch (pickling, packing) holds the event loop: the tail matters

# enqueued_at is set at insert for pending rows (the enqueue follows at once); when the enqueue fails the
# row's enqueued_at is cleared, which is what tells the sweeper to pick it up within seconds.
_STORE = """
WITH new AS (
    INSERT INTO inbox_events (source, dedupe_key, content_type, body, received_at, state, reason, subject,
                              attempts, enqueued_at, processed_at)
    VALUES ($1, $2, $3, $4, $5::timestamptz, $6::varchar, $7, $8, 0,
            CASE WHEN $6::varchar = 'pending' THEN $5::timestamptz END,
            CASE WHEN $6::varchar <> 'pending' THEN $5::timestamptz END)
    ON CONFLICT ON CONSTRAINT uq_inbox_source_dedupe DO NOTHING
    RETURNING id, state)
SELECT id, state, false AS duplicate FROM new
UNION ALL
SELECT id, state, true FROM inbox_events
 WHERE source = $1 AND dedupe_key = $2 AND NOT EXISTS (SELECT 1 FROM new)
"""
# The rare duplicate whose first copy committed after the statement above took its snapshot.
_EXISTING = "SELECT id, state, true AS duplicate FROM inbox_events WHERE source = $1 AND dedupe_key = $2"
_NOT_ENQUEUED = "UPDATE inbox_events SET enqueued_at = NULL WHERE id = ANY($1::bigint[]) AND state = 'pending'"


class StorageUnavailable(Exception):
    """Postgres cannot be reached or is not answering: the sender should retry later."""


@dataclass(frozen=True, slots=True)
class Stored:
    event_id: int | None
    state: str
    duplicate: bool


def storable_text(text: str | None, limit: int) -> str | None:
    """Text as its column can hold it: cut to width, NUL and lone surrogates escaped."""
    if text is None:
        return None
    if not text.isascii() or "\x00" in text:
        text = text.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:limit]


def asyncpg_dsn(database_url: str) -> str:
    return "postgresql://" + sqlalchemy_url(database_url).removeprefix("postgresql+asyncpg://")


async def _reset(conn: asyncpg.Connection) -> None:
    """asyncpg's default reset on release (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) is a round trip
    per request; these connections only ever run single autocommitted statements, so there is nothing to
    undo but a transaction an interrupted call might have left open."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class InboxWriter:
    def __init__(self, database_url: str, pool_size: int) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        # min_size=0: the API starts (and answers 503) while Postgres is down. No ping per checkout: asyncpg
        # drops connections it has seen close, and a write on one that died unseen is retried once.
        self._pool = await asyncpg.create_pool(self._dsn, min_size=0, max_size=self._pool_size, timeout=5,
                                               command_timeout=30, reset=_reset)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def store(self, source: str, delivery: Delivery, raw: bytes, content_type: str) -> Stored:
        try:
            return await self._store(source, delivery, raw, content_type)
        except UNSTORABLE as exc:
            log.warning("%s delivery refused by Postgres (%s); kept as invalid", source, type(exc).__name__)
            kept = Delivery.invalid(f"could not be stored as sent ({type(exc).__name__}: {exc})"[:500], raw)
            return await self._store(source, kept, raw, content_type)

    async def _store(self, source: str, delivery: Delivery, raw: bytes, content_type: str) -> Stored:
        if self._pool is None:
            raise StorageUnavailable("inbox writer not started")
        args = (source, storable_text(delivery.dedupe_key, 200), storable_text(content_type, 200), raw,
                datetime.now(UTC), delivery.state, storable_text(delivery.reason, 2000),
                storable_text(delivery.subject, 100))
        for attempt in (1, 2):
            try:
                async with self._pool.acquire() as conn:
                    rows = await conn.fetch(_STORE, *args)
                    if not rows:
                        rows = await conn.fetch(_EXISTING, source, args[1])
                row = rows[0]
                return Stored(row["id"], row["state"], row["duplicate"])
            except UNSTORABLE:
                raise
            except (asyncpg.ConnectionDoesNotExistError, asyncpg.exceptions._base.InternalClientError):
                # A connection Postgres closed under the pool (a restart, a terminated backend) fails the
                # first statement on it, sometimes as asyncpg's own protocol-state error: try a fresh one.
                if attempt == 2:
                    raise StorageUnavailable("connection lost twice") from None
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.error("could not store %s webhook: %s: %s", source, type(exc).__name__, exc)
                raise StorageUnavailable(type(exc).__name__) from exc
        raise AssertionError("unreachable")

    async def not_enqueued(self, event_ids: list[int]) -> None:
        """Tell the sweeper these were never queued, so it picks them up after its short grace period."""
        if self._pool is None:
            return
        try:
            async with self._pool.acquire() as conn:
                await conn.execute(_NOT_ENQUEUED, event_ids)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("could not clear enqueued_at of %d events (%s); the sweeper finds them after its stale "
                        "window", len(event_ids), type(exc).__name__)


class Enqueuer:
    """Queues stored events after the answer. Events arriving while a batch is in flight go in the next
    one, so a burst costs one Redis round trip per batch rather than three per event."""

    def __init__(self, queue: Queue, writer: InboxWriter) -> None:
        self._queue = queue
        self._writer = writer
        self._waiting: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, event_id: int) -> None:
        self._waiting.append(event_id)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            jobs = [((event_id,), job_id(event_id)) for event_id in batch]
            if not await self._queue.enqueue_many(PROCESS_JOB, jobs):
                await self._writer.not_enqueued(batch)

    async def close(self) -> None:
        """Finish the batch in flight (shutdown): what is left unsent is the sweeper's."""
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
            except TimeoutError:
                pass
