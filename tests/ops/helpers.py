"""Shared by the ops tests: an HTTPS-addressed client (so Secure cookies flow), a dashboard login, and
orders driven into the states the attention list knows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import update

from app.main import create_app
from app.models import Shipment
from app.services import Services
from tests.harness import OPS_TOKEN

BEARER = {"Authorization": f"Bearer {OPS_TOKEN}"}


@asynccontextmanager
async def ops_client(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(svc.settings, svc)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://shipbridge.test") as client:
            yield client


async def login(client: httpx.AsyncClient) -> str:
    """Log in like a browser; returns the CSRF token the dashboard's forms carry."""
    answer = await client.post("/ops/login", data={"token": OPS_TOKEN})
    assert answer.status_code == 303, answer.text
    page = await client.get("/ops")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def set_shipment(svc: Services, salesorder_id: str, **values: Any) -> None:
    async with svc.sessionmaker.begin() as session:
        await session.execute(update(Shipment).where(Shipment.salesorder_id == salesorder_id).values(**values))
