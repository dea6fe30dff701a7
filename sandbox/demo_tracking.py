"""The tracking part of the sandbox demo: after the spine has given the demo orders their AWBs, the
courier (ShiprocketSim) delivers the first and returns the second to origin, posting real-shaped
webhooks (with a duplicate) to /webhooks/tracking; the demo then prints what Zoho shows and did."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from app.integrations.shiprocket.statuses import from_shipment_id
from app.models import Shipment
from sandbox.shiprocket import ShiprocketSim
from sandbox.shiprocket_format import now_ist
from sandbox.zoho import ZohoSim

DELIVERY = [3, 42, 18, 17, 7]  # shipment-status ids: pickup scheduled .. delivered
RTO = [3, 42, 18, 17, 21, 9, 46, 10]  # .. an NDR, RTO initiated, RTO in transit, RTO delivered


async def run_tracking_demo(zoho: ZohoSim, shiprocket: ShiprocketSim, api_url: str, db_url: str, run_tag: str,
                            token: str, say: Callable[[str], None] = print) -> bool:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s:
            shipped = (await s.execute(select(Shipment).where(
                Shipment.salesorder_number.like(f"{run_tag}-%"), Shipment.awb.is_not(None))
                .order_by(Shipment.id))).scalars().all()
        if len(shipped) < 2:
            return False
        plans = [(shipped[0], DELIVERY, "delivered"), (shipped[1], RTO, "rto_delivered")]
        start = now_ist() - timedelta(days=3)
        say("")
        say("Tracking: one order delivered, one returned to origin (real-shaped webhooks, the first redelivered)")
        ok = True
        for sh, statuses, expect in plans:
            stock, calls = [_stock(zoho, sh)], len(zoho.calls)
            for i, status in enumerate(statuses):
                body = shiprocket.advance(sh.awb or "", status, when=start + timedelta(hours=6 * i))
                for _ in range(2 if i == 0 else 1):
                    await shiprocket.deliver_webhook(f"{api_url}/webhooks/tracking", token, body)
                await _settled(sessions, sh.id, from_shipment_id(status).value)
                if status == 42:
                    stock.append(_stock(zoho, sh))
            done = await _settled(sessions, sh.id, expect)
            stock.append(_stock(zoho, sh))
            ok = ok and done is not None
            label, record = await _zoho_shows(zoho, sh.salesorder_id, expect)
            say(f"  {sh.salesorder_number} AWB {sh.awb}: {len(statuses)} statuses -> "
                f"{done.tracking_status if done else 'not settled'}; Zoho shows {label!r}{record}; "
                f"{len(zoho.calls) - calls} Zoho calls; units in stock {' -> '.join(stock)} "
                "(before, at pickup, at the end)")
        so_rto = plans[1][0].salesorder_id
        returns = [r for r in zoho.salesreturns.values() if r["salesorder_id"] == so_rto]
        say(f"  RTO restock: {len(returns)} sales return(s), "
            f"received: {[r['receive_status'] for r in returns]}")
        return ok
    finally:
        await engine.dispose()


async def _zoho_shows(zoho: ZohoSim, salesorder_id: str, expect: str, timeout: float = 60) -> tuple[str, str]:
    """What the seller sees on the sales order once the parcel is final: the status label, and Zoho's own
    shipment order. A label may reach Zoho up to about a minute after the parcel settles: after a burst of
    AWB and money writes (this demo's RTO makes several at once) labels stand aside for two quarter-windows
    and are then written by the label flush (every SWEEP_INTERVAL_SECONDS). With the frugal default a
    delivery is shown by Zoho's shipment order rather than by a label."""
    final_label = "Returned" if expect == "rto_delivered" else "Delivered"
    deadline = time.monotonic() + timeout
    while True:
        label = zoho.custom_field(salesorder_id, "cf_shipment_status")
        shipments = [s for s in zoho.shipments.values() if s.get("salesorder_id") == salesorder_id]
        recorded = bool(shipments) and shipments[-1].get("status") == "delivered" and expect == "delivered"
        if label == final_label or recorded or time.monotonic() > deadline:
            record = f" and its Zoho shipment order {shipments[-1].get('status')}" if shipments else ""
            return str(label), record
        await asyncio.sleep(0.1)


def _stock(zoho: ZohoSim, sh: Shipment) -> str:
    total = sum((zoho.stock(line["item_id"]) for line in sh.order.get("lines", [])), Decimal(0))
    return format(total.normalize(), "f")


async def _settled(sessions: Any, shipment_id: int, status: str, timeout: float = 30) -> Shipment | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with sessions() as s:
            sh = await s.get(Shipment, shipment_id)
        if sh is not None and sh.tracking_settled and sh.tracking_status == status:
            return sh
        await asyncio.sleep(0.05)
    return None
