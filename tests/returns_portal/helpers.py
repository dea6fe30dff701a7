"""Builders for the Return Prime tests: a delivered order whose Zoho reference number is the Shopify
order name, requests on the Return Prime simulator, and webhook posts."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import func, select

from app.models import InboxEvent, Shipment
from app.returns_portal.models import ReturnPrimeLine
from app.services import Services
from app.tracking.models import CustomerReturn
from app.tracking.returns import _return_order
from sandbox.returnprime import ReturnPrimeSim
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim
from tests.harness import RETURNPRIME_WEBHOOK_KEY
from tests.tracking.helpers import FORWARD, drive, settled, shipped


async def delivered(svc: Services, client: httpx.AsyncClient, shiprocket_sim: ShiprocketSim, zoho_sim: ZohoSim,
                    name: str, **kw: Any) -> tuple[str, Shipment]:
    """A delivered order that came from Shopify as `name` (the connector's reference number)."""
    so_id, sh = await shipped(svc, client, zoho_sim, **kw)
    with zoho_sim._lock:
        zoho_sim.salesorders[so_id]["reference_number"] = name
    await drive(client, shiprocket_sim, sh.awb, FORWARD)
    return so_id, await settled(svc, so_id, "delivered")


def sku_of(sh: Shipment) -> str:
    return str(sh.order["lines"][0]["sku"])


def approved_request(rp: ReturnPrimeSim, name: str, sku: str, qty: int = 1, **kw: Any) -> str:
    return str(rp.create_request(name, [(sku, qty, Decimal("499.00"))], approved=True, **kw)["id"])


async def post_rp(client: httpx.AsyncClient, body: dict[str, Any] | bytes,
                  key: str | None = RETURNPRIME_WEBHOOK_KEY) -> httpx.Response:
    url = "/webhooks/returnprime" + (f"?key={key}" if key is not None else "")
    content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    return await client.post(url, content=content, headers={"Content-Type": "application/json"})


async def returns_of(svc: Services, so_id: str) -> list[CustomerReturn]:
    async with svc.sessionmaker() as s:
        return list((await s.execute(select(CustomerReturn).where(CustomerReturn.salesorder_id == so_id)
                                     .order_by(CustomerReturn.id))).scalars())


async def rp_lines(svc: Services, request_id: str) -> list[ReturnPrimeLine]:
    async with svc.sessionmaker() as s:
        return list((await s.execute(select(ReturnPrimeLine).where(ReturnPrimeLine.request_id == request_id)))
                    .scalars())


async def inbox_count(svc: Services) -> int:
    async with svc.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(InboxEvent)) or 0)


def sim_returns(sim: ShiprocketSim) -> list[dict[str, Any]]:
    return [o for o in sim.orders.values() if o["is_return"]]


async def book_outside(svc: Services, sh: Shipment, channel_order_id: str) -> str:
    """A reverse pickup booked on the seller's Shiprocket account by someone else (Return Prime's own
    logistics integration): a Shiprocket return order and its AWB, unknown to Shipbridge."""
    found = await svc.aggregator.pickup_location(svc.settings.SHIPROCKET_PICKUP_LOCATION)
    assert found is not None
    location_id, warehouse = found
    line = {**sh.order["lines"][0], "quantity": "1"}
    ret = SimpleNamespace(channel_order_id=channel_order_id, reason="Return Prime pickup", lines=[line])
    created = await svc.aggregator.create_return(_return_order(ret, sh, warehouse, location_id))  # type: ignore[arg-type]
    assignment = await svc.aggregator.assign_awb(created.shipment_id, None)
    assert assignment is not None
    return assignment.awb
