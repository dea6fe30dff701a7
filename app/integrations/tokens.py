"""Upstream access tokens shared by every process through Postgres.

Zoho refuses more than 10 token requests per 10 minutes and Shiprocket logins are slow and audited, so
no process ever fetches a token on its own whim: it reads the shared row, and only when the row is
missing, about to expire, or known bad does one process (holding a Postgres advisory lock: single
flight across processes) fetch a new one while the others wait and then reuse it."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import ApiToken

Fetch = Callable[[], Awaitable[tuple[str, datetime]]]


class SharedToken:
    def __init__(self, name: str, sessionmaker: async_sessionmaker[AsyncSession], fetch: Fetch,
                 margin: timedelta) -> None:
        self.name = name
        self._sessionmaker = sessionmaker
        self._fetch = fetch
        self._margin = margin
        self._cached: tuple[str, datetime] | None = None
        self._lock = asyncio.Lock()  # single flight inside this process
        self._lock_key = zlib.crc32(f"token:{name}".encode()) & 0x7FFFFFFF
        self.fetches = 0  # tokens this process obtained from the upstream (for tests and metrics)

    def _fresh(self, expires_at: datetime) -> bool:
        return expires_at - self._margin > datetime.now(UTC)

    async def get(self) -> str:
        cached = self._cached
        if cached and self._fresh(cached[1]):
            return cached[0]
        async with self._lock:
            cached = self._cached
            if cached and self._fresh(cached[1]):
                return cached[0]
            return await self._load_or_fetch(bad=None)

    async def invalidate(self, bad_token: str) -> str:
        """The upstream refused `bad_token` (401): get a token that is not it, fetching one if needed."""
        async with self._lock:
            cached = self._cached
            if cached and cached[0] != bad_token and self._fresh(cached[1]):
                return cached[0]
            self._cached = None
            return await self._load_or_fetch(bad=bad_token)

    async def _load_or_fetch(self, bad: str | None) -> str:
        async with self._sessionmaker() as session, session.begin():
            # Transaction-scoped advisory lock: released on commit, or when a killed process's connection drops.
            await session.execute(select(func.pg_advisory_xact_lock(self._lock_key)))
            row = await session.get(ApiToken, self.name)
            if row is not None and row.token != bad and self._fresh(row.expires_at):
                self._cached = (row.token, row.expires_at)
                return row.token
            token, expires_at = await self._fetch()
            self.fetches += 1
            stmt = insert(ApiToken).values(name=self.name, token=token, expires_at=expires_at,
                                           updated_at=datetime.now(UTC))
            stmt = stmt.on_conflict_do_update(index_elements=[ApiToken.name],
                                              set_={"token": token, "expires_at": expires_at,
                                                    "updated_at": datetime.now(UTC)})
            await session.execute(stmt)
        self._cached = (token, expires_at)
        return token
