"""Builders for the remittance tests: COD orders shipped through the real spine (so the AWB lives in
our database and in the Shiprocket simulator), invoiced in Zoho and delivered; remittance webhooks."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from app.models import InboxEvent, Shipment
from app.remittance.models import CodRemittance, CodRemittanceLine
from app.services import Services
from app.timeutil import ist_today
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim
from tests.harness import OPS_TOKEN, SHIPROCKET_WEBHOOK_TOKEN, eventually, running_worker
from tests.spine_helpers import confirmed_order, deliver, in_state

TODAY = ist_today()
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}


# The shared harness now waits for jobs in flight before stopping the worker.
worker = running_worker


async def shipped_orders(svc: Services, client: httpx.AsyncClient, zoho: ZohoSim, sr: ShiprocketSim, n: int, *,
                         terms: str = "COD", invoice: bool = True, delivered: bool = True,
                         prefix: str = "SO-R") -> list[Shipment]:
    """n orders (quantities 1..n, so amounts differ) booked through the spine; needs a running worker."""
    ids = [confirmed_order(zoho, terms=terms, qty=i + 1, number=f"{prefix}{i + 1}") for i in range(n)]
    for so_id in ids:
        await deliver(client, zoho, so_id)
    shipments = [await eventually(in_state(svc, so_id, "manifested")) for so_id in ids]
    for sh in shipments:
        if invoice:
            zoho.invoice_salesorder(sh.salesorder_id)
        if delivered:
            sr.advance(sh.awb or "", 7)
    return shipments


async def post_remittance(client: httpx.AsyncClient, body: dict[str, Any] | bytes,
                          token: str | None = SHIPROCKET_WEBHOOK_TOKEN) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} | ({"x-api-key": token} if token is not None else {})
    return await client.post("/webhooks/cod-remittance", content=raw, headers=headers)


def remit(sr: ShiprocketSim, shipments: list[Shipment], deductions: list[str] | None = None,
          day: date = TODAY) -> dict[str, Any]:
    awbs = [sh.awb or "" for sh in shipments]
    cut = {awb: Decimal(d) for awb, d in zip(awbs, deductions or [], strict=False)}
    return sr.add_remittance(awbs=awbs, remittance_date=day, deductions=cut)


async def lines(svc: Services, remittance_id: str | None = None) -> list[CodRemittanceLine]:
    async with svc.sessionmaker() as s:
        q = select(CodRemittanceLine).order_by(CodRemittanceLine.id)
        if remittance_id:
            q = q.where(CodRemittanceLine.remittance_id == remittance_id)
        return list((await s.execute(q)).scalars())


async def remittances(svc: Services) -> list[CodRemittance]:
    async with svc.sessionmaker() as s:
        return list((await s.execute(select(CodRemittance).order_by(CodRemittance.id))).scalars())


def settled(svc: Services, count: int, remittance_id: str | None = None):  # noqa: ANN201 - awaitable factory
    """Wait until `count` lines exist and none is pending."""
    async def check() -> list[CodRemittanceLine] | None:
        found = await lines(svc, remittance_id)
        return found if len(found) == count and all(ln.state != "pending" for ln in found) else None

    return check


def inbox_settled(svc: Services):  # noqa: ANN201 - awaitable factory
    """Wait until no remittance inbox event is pending (lines settle just before the event is marked)."""
    async def check() -> bool:
        async with svc.sessionmaker() as s:
            states = (await s.execute(select(InboxEvent.state).where(InboxEvent.source == "cod_remittance"))).scalars()
            return all(state != "pending" for state in states)

    return check


def invoice_of(zoho: ZohoSim, so_id: str) -> dict[str, Any]:
    [entry] = zoho.salesorder(so_id)["invoices"]
    return zoho.invoice(entry["invoice_id"])


def payments_for(zoho: ZohoSim, remittance_id: str, awb: str) -> list[dict[str, Any]]:
    return zoho.find_payments(reference_number=f"{remittance_id}/{awb}")


def books_posts(zoho: ZohoSim) -> int:
    return sum(1 for m, p in zoho.calls if m == "POST" and p.endswith("/customerpayments"))
