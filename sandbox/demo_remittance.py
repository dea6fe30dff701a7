"""The COD part of the sandbox demo: the delivered COD order is invoiced in Zoho, Shiprocket remits its
cash net of charges, the remittance webhook arrives (twice), and the demo prints the Books payment."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

import httpx
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from app.models import Shipment
from app.remittance.models import CodRemittanceLine, LineState
from sandbox.shiprocket import ShiprocketSim
from sandbox.shiprocket_format import now_ist
from sandbox.zoho import ZohoSim

CHARGES = Decimal("52.40")  # Shiprocket's COD fee and handling on this parcel


async def run_remittance_demo(zoho: ZohoSim, shiprocket: ShiprocketSim, api_url: str, db_url: str, run_tag: str,
                              token: str, say: Callable[[str], None] = print) -> bool:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s:
            sh = await s.scalar(select(Shipment).where(
                Shipment.salesorder_number.like(f"{run_tag}-%"), Shipment.payment_method == "COD",
                Shipment.tracking_status == "delivered").order_by(Shipment.id))
        if sh is None or not sh.awb:
            return False
        invoice = zoho.invoice_salesorder(sh.salesorder_id)
        body = shiprocket.add_remittance(awbs=[sh.awb], remittance_date=now_ist().date(),
                                         deductions={sh.awb: CHARGES})
        say("")
        collected = body["orders"][0]["cod_amount"]
        say(f"COD remittance {body['remittance_id']}: {sh.salesorder_number} collected ₹{collected}, "
            f"Shiprocket kept ₹{CHARGES}, bank transfer ₹{body['bank_transfer_amount']} (webhook delivered twice)")
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(2):
                r = await client.post(f"{api_url}/webhooks/cod-remittance", json=body, headers={"x-api-key": token})
                say(f"  webhook {r.status_code} {r.json()}")
        line = await _paid(sessions, sh.awb)
        if line is None:
            say("  the line was not paid within 30 s")
            return False
        payments = [p for p in zoho.find_payments(line.payment_reference)]
        after = zoho.invoice(str(invoice["invoice_id"]))
        say(f"  Books: {len(payments)} payment {line.payment_reference}: amount ₹{_rupees(payments[0]['amount'])}, "
            f"bank charges ₹{_rupees(payments[0]['bank_charges'])} on invoice {invoice['invoice_number']} "
            f"(balance ₹{_rupees(invoice['balance'])} -> ₹{_rupees(after['balance'])}); "
            f"cf_cod_remittance_id = {zoho.custom_field(sh.salesorder_id, 'cf_cod_remittance_id')}")
        return len(payments) == 1 and Decimal(str(after["balance"])) == 0
    finally:
        await engine.dispose()


def _rupees(value: object) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


async def _paid(sessions: object, awb: str, timeout: float = 30) -> CodRemittanceLine | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with sessions() as s:  # type: ignore[operator]
            line = await s.scalar(select(CodRemittanceLine).where(CodRemittanceLine.awb == awb))
        if line is not None and line.state == LineState.paid and line.so_updated:
            return line  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    return None
