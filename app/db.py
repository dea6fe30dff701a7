"""Engine and sessions. Postgres is the source of truth; every job step reads and writes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.settings import sqlalchemy_url


def make_engine(database_url: str, pool_size: int = 10, **kwargs: object) -> AsyncEngine:
    # pool_pre_ping: a Postgres restart must not leave dead connections that fail the next request.
    # A short connect timeout lets the webhook endpoint answer 503 quickly when Postgres is down.
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"timeout": 5, "command_timeout": 30},
        **kwargs,  # type: ignore[arg-type]
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
