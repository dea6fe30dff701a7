"""Builders for the spine tests: seeded items, confirmed sales orders, signed webhook deliveries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from app.models import Alert, InboxEvent, Shipment
from app.services import Services
from sandbox.zoho import ZohoSim
from tests.harness import WEBHOOK_SECRET


def seed_item(zoho: ZohoSim, sku: str = "SSB-1L", rate: str = "499", weight_g: int = 420) -> str:
    try:
        return str(zoho.item_by_sku(sku)["item_id"])
    except KeyError:
        pass
    item = zoho.add_item(name=f"Item {sku}", sku=sku, rate=Decimal(rate), stock=50,
                         package_details={"length": 28, "width": 8, "height": 8, "weight": weight_g,
                                          "weight_unit": "g", "dimension_unit": "cm"})
    return str(item["item_id"])


def confirmed_order(zoho: ZohoSim, *, pincode: str = "560001", city: str = "Bengaluru", terms: str = "COD",
                    qty: int = 2, item_id: str | None = None, number: str | None = None,
                    confirm: bool = True) -> str:
    item_id = item_id or seed_item(zoho)
    so = zoho.create_salesorder(
        customer_name="Priya Sharma", email="priya@example.com", phone="9876543210",
        shipping_address={"attention": "Priya Sharma", "address": "12 MG Road", "street2": "", "city": city,
                          "state": "Karnataka", "zip": pincode, "country": "India", "phone": "9876543210"},
        lines=[(item_id, qty)], payment_terms_label=terms, salesorder_number=number)
    if confirm:
        zoho.confirm_salesorder(str(so["salesorder_id"]))
    return str(so["salesorder_id"])


async def deliver(client: httpx.AsyncClient, zoho: ZohoSim, so_id: str, *, secret: str = WEBHOOK_SECRET,
                  body: bytes | None = None, form: bool = False) -> httpx.Response:
    raw = body if body is not None else zoho.webhook_body(so_id)
    headers = {"Content-Type": "application/json", "X-Zoho-Webhook-Signature": zoho.sign(raw, secret)}
    if form:
        from urllib.parse import urlencode

        raw = urlencode({"JSONString": raw.decode()}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Zoho-Webhook-Signature": zoho.sign(raw, secret)}
    return await client.post("/webhooks/zoho/salesorders", content=raw, headers=headers)


async def shipment(svc: Services, so_id: str) -> Shipment | None:
    async with svc.sessionmaker() as s:
        return await s.scalar(select(Shipment).where(Shipment.salesorder_id == so_id))


async def count(svc: Services, model: Any) -> int:
    async with svc.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def alerts(svc: Services, kind: str | None = None) -> list[Alert]:
    async with svc.sessionmaker() as s:
        q = select(Alert).order_by(Alert.id)
        if kind:
            q = q.where(Alert.kind == kind)
        return list((await s.execute(q)).scalars())


async def inbox(svc: Services) -> list[InboxEvent]:
    async with svc.sessionmaker() as s:
        return list((await s.execute(select(InboxEvent).order_by(InboxEvent.id))).scalars())


def in_state(svc: Services, so_id: str, *states: str):  # noqa: ANN201 - returns an awaitable factory
    async def check() -> Shipment | None:
        sh = await shipment(svc, so_id)
        return sh if sh is not None and sh.state in states else None

    return check


def order_idle(svc: Services, so_id: str):  # noqa: ANN201 - returns an awaitable factory
    """True once no job holds the order's advisory lock (a job that reached the final state still holds
    it for a moment; ops calls that try the lock once must not race it)."""
    from app.locks import advisory_lock, order_lock_name

    async def check() -> bool:
        async with advisory_lock(svc.engine, order_lock_name(so_id)) as held:
            return held

    return check
