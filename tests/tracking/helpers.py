"""Builders for the tracking tests: an order taken through the spine to an AWB, webhook deliveries in
Shiprocket's real shape (from ShiprocketSim.advance), and waits on the persisted outcome."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from app.main import create_app
from app.models import InboxEvent, InboxState, Shipment
from app.services import Services
from app.tracking.models import TrackingEffect, TrackingEvent
from sandbox.shiprocket import ShiprocketSim
from sandbox.shiprocket_format import now_ist
from sandbox.zoho import ZohoSim
from tests.harness import SHIPROCKET_WEBHOOK_TOKEN, api_client, eventually, running_worker
from tests.spine_helpers import confirmed_order, deliver, in_state, order_idle, shipment


@asynccontextmanager
async def stack(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The API over ASGI and a real worker (which lets its jobs finish on the way out)."""
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        yield client


FORWARD = [3, 42, 6, 18, 38, 17, 7]  # pickup scheduled .. delivered (shipment-status ids, facts §5B)
RTO = [3, 42, 18, 17, 21, 9, 46, 10]  # .. an NDR, RTO initiated, RTO in transit, RTO delivered


async def shipped(svc: Services, client: httpx.AsyncClient, zoho: ZohoSim, *, terms: str = "COD", qty: int = 2,
                  sku: str | None = None, invoiced: bool = False, paid: bool = False) -> tuple[str, Shipment]:
    """A confirmed order taken through the spine until it is ready for the courier (AWB on the sales
    order, pickup requested, label and manifest made) and its job has let go of it."""
    item_id = str(zoho.item_by_sku(sku)["item_id"]) if sku else None
    so_id = confirmed_order(zoho, terms=terms, qty=qty, item_id=item_id)
    if invoiced or paid:
        invoice = zoho.invoice_salesorder(so_id)
        if paid:
            with zoho._lock:
                zoho._create_payment({"customer_id": invoice["customer_id"], "payment_mode": "banktransfer",
                                      "amount": invoice["total"], "date": invoice["date"],
                                      "invoices": [{"invoice_id": invoice["invoice_id"],
                                                    "amount_applied": invoice["total"]}]})
    await deliver(client, zoho, so_id)
    sh = await eventually(in_state(svc, so_id, "manifested"))
    await eventually(order_idle(svc, so_id))
    return so_id, sh


def bodies(sim: ShiprocketSim, awb: str, statuses: list[int], start: datetime | None = None,
           step: timedelta = timedelta(minutes=30)) -> list[dict[str, Any]]:
    """Play the courier: one Sample-A webhook body per status, at distinct, increasing times."""
    start = start or now_ist() - timedelta(days=2)
    return [sim.advance(awb, status, when=start + i * step) for i, status in enumerate(statuses)]


async def post(client: httpx.AsyncClient, body: dict[str, Any] | bytes, key: str | None = SHIPROCKET_WEBHOOK_TOKEN,
               ) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    return await client.post("/webhooks/tracking", content=content, headers=headers)


async def drive(client: httpx.AsyncClient, sim: ShiprocketSim, awb: str, statuses: list[int],
                svc: Services | None = None) -> None:
    """Deliver one webhook per status; with `svc`, each only after the previous one is fully applied (as in
    life, where statuses arrive hours apart), so every visible status change reaches Zoho."""
    for body in bodies(sim, awb, statuses):
        assert (await post(client, body)).status_code == 200
        if svc is not None:
            await eventually(lambda: _quiet(svc, awb))


async def _quiet(svc: Services, awb: str) -> bool:
    async with svc.sessionmaker() as s:
        sh = await s.scalar(select(Shipment).where(Shipment.awb == awb))
    return sh is not None and sh.tracking_settled and await inbox_idle(svc)


async def inbox_idle(svc: Services) -> bool:
    async with svc.sessionmaker() as s:
        return not await s.scalar(select(func.count()).select_from(InboxEvent)
                                  .where(InboxEvent.state == InboxState.pending))


async def settled(svc: Services, so_id: str, status: str, timeout: float = 15.0) -> Shipment:
    """Wait until every delivery is processed and the shipment sits settled at `status`."""
    async def check() -> Shipment | None:
        sh = await shipment(svc, so_id)
        if sh is None or sh.tracking_status != status or not sh.tracking_settled:
            return None
        return sh if await inbox_idle(svc) else None

    return await eventually(check, timeout=timeout)


def writes(zoho: ZohoSim, since: int) -> list[tuple[str, str]]:
    return [c for c in zoho.calls[since:] if c[0] != "GET"]


async def effects(svc: Services, so_id: str) -> dict[str, TrackingEffect]:
    async with svc.sessionmaker() as s:
        rows = (await s.execute(select(TrackingEffect).where(TrackingEffect.salesorder_id == so_id))).scalars()
        return {f"{r.subject.split(':')[0]}:{r.effect}": r for r in rows}


async def events(svc: Services, awb: str) -> list[TrackingEvent]:
    async with svc.sessionmaker() as s:
        return list((await s.execute(select(TrackingEvent).where(TrackingEvent.awb == awb)
                                     .order_by(TrackingEvent.id))).scalars())


def stock(zoho: ZohoSim, sh: Shipment) -> Decimal:
    return zoho.stock(sh.order["lines"][0]["item_id"])
