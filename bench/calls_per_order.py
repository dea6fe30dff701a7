"""Benchmark: upstream calls per order over its whole life, counted from the simulators' request logs,
through the real stack (API and worker processes, Postgres, Redis): a forward COD order (confirmed ->
AWB -> picked up -> delivered -> remitted), an RTO of an invoiced COD order, and the remittance line on
its own; then orders a day per Zoho plan at that cost. `--labels all` writes every status label (the
behaviour before issue 9) for comparison; token calls are not API calls and are left out.

Run:  .venv/bin/python bench/calls_per_order.py [--labels default|all]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.integrations.zoho.budget import PLAN_DAILY_CALLS  # noqa: E402
from app.models import ACTIVE_STATES, InboxEvent, Shipment  # noqa: E402
from app.remittance.models import CodRemittanceLine  # noqa: E402
from app.timeutil import ist_today  # noqa: E402
from sandbox.demo import WEBHOOK_SECRET, Sandbox, start_sandbox  # noqa: E402
from sandbox.shiprocket_format import now_ist  # noqa: E402

TRACKING_TOKEN = "demo-tracking-token"
FORWARD = [3, 42, 6, 18, 38, 17, 7]  # pickup scheduled .. delivered (shipment-status ids)
RTO = [3, 42, 18, 17, 21, 9, 46, 10]  # .. NDR, RTO initiated, RTO in transit, RTO delivered
Calls = list[tuple[str, str]]


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("stack did not settle")


class Run:
    def __init__(self, sb: Sandbox, client: httpx.AsyncClient) -> None:
        self.sb, self.client = sb, client
        self.sessions = make_sessionmaker(make_engine(sb.db_url))

    def zoho_since(self, mark: int) -> Calls:
        return [c for c in self.sb.zoho.calls[mark:] if not c[1].startswith("/oauth/")]

    def sr_since(self, mark: int) -> Calls:
        return [c for c in self.sb.shiprocket.calls[mark:] if c[1] != "/auth/login"]

    async def idle(self) -> bool:
        async with self.sessions() as s:
            pending = await s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.state == "pending"))
            unsettled = await s.scalar(select(func.count()).select_from(Shipment)
                                       .where(Shipment.tracking_settled.is_(False)))
            dispatching = await s.scalar(select(func.count()).select_from(Shipment)  # pickup, label, manifest
                                         .where(Shipment.state.in_([st.value for st in ACTIVE_STATES])))
        return not pending and not unsettled and not dispatching

    async def order(self, item_id: str, n: int) -> tuple[str, str]:
        zoho = self.sb.zoho
        so = zoho.create_salesorder(
            customer_name="Calls Customer", email="calls@example.in", phone="9845000000",
            shipping_address={"attention": "Calls Customer", "address": f"{n} MG Road", "city": "Bengaluru",
                              "state": "Karnataka", "zip": "560001", "country": "India", "phone": "9845000000"},
            lines=[(item_id, 1)], payment_terms_label="Cash on Delivery")
        so_id = str(so["salesorder_id"])
        zoho.confirm_salesorder(so_id)
        zoho.invoice_salesorder(so_id)  # invoiced on confirmation, as many COD sellers do
        raw = zoho.webhook_body(so_id)
        r = await self.client.post(f"{self.sb.api_url}/webhooks/zoho/salesorders", content=raw, headers={
            "Content-Type": "application/json", "X-Zoho-Webhook-Signature": zoho.sign(raw, WEBHOOK_SECRET)})
        assert r.status_code == 200, r.text

        async def awb() -> bool:
            return bool(zoho.custom_field(so_id, "cf_awb_number"))

        await until(awb)
        await until(self.idle)
        return so_id, str(zoho.custom_field(so_id, "cf_awb_number"))

    async def track(self, awb: str, statuses: list[int]) -> None:
        start = now_ist() - timedelta(days=2)
        for i, status in enumerate(statuses):
            body = self.sb.shiprocket.advance(awb, status, when=start + i * timedelta(minutes=30))
            r = await self.client.post(f"{self.sb.api_url}/webhooks/tracking", json=body,
                                       headers={"x-api-key": TRACKING_TOKEN})
            assert r.status_code == 200, r.text
            await asyncio.sleep(0.1)
            await until(self.idle)

    async def remit(self, so_id: str, awb: str) -> None:
        body = self.sb.shiprocket.add_remittance(awbs=[awb], remittance_date=ist_today())
        r = await self.client.post(f"{self.sb.api_url}/webhooks/cod-remittance", json=body,
                                   headers={"x-api-key": TRACKING_TOKEN})
        assert r.status_code == 200, r.text

        async def written() -> bool:  # paid in Books (and written back, when REMITTANCE_WRITE_SALESORDER)
            async with self.sessions() as s:
                return bool(await s.scalar(select(func.count()).select_from(CodRemittanceLine).where(
                    CodRemittanceLine.remittance_id == str(body["remittance_id"]),
                    CodRemittanceLine.so_updated.is_(True))))

        await until(written)
        await until(self.idle)


async def measure(sb: Sandbox) -> dict[str, Any]:
    item_id = str(sb.zoho.add_item(name="Calls Kurta", sku="CALLS-1", rate=999, stock=1000,
                                   package_details={"length": 30, "width": 25, "height": 4, "weight": 400,
                                                    "weight_unit": "g", "dimension_unit": "cm"})["item_id"])
    async with httpx.AsyncClient(timeout=30) as client:
        run = Run(sb, client)
        await run.order(item_id, 0)  # warm-up: logins and the item's package details (cached after)
        z, s = len(sb.zoho.calls), len(sb.shiprocket.calls)
        so_id, awb = await run.order(item_id, 1)
        booked = (run.zoho_since(z), run.sr_since(s))
        z2, s2 = len(sb.zoho.calls), len(sb.shiprocket.calls)
        await run.track(awb, FORWARD)
        tracked = (run.zoho_since(z2), run.sr_since(s2))
        z3, s3 = len(sb.zoho.calls), len(sb.shiprocket.calls)
        await run.remit(so_id, awb)
        remitted = (run.zoho_since(z3), run.sr_since(s3))

        z4, s4 = len(sb.zoho.calls), len(sb.shiprocket.calls)
        rto_so, rto_awb = await run.order(item_id, 2)
        await run.track(rto_awb, RTO)
        rto = (run.zoho_since(z4), run.sr_since(s4))

    def phase(calls: tuple[Calls, Calls]) -> dict[str, Any]:
        return {"zoho": len(calls[0]), "shiprocket": len(calls[1]), "zoho_calls": calls[0]}

    cod_life = len(booked[0]) + len(tracked[0]) + len(remitted[0])
    return {
        "cod_forward_life": {"zoho": cod_life, "shiprocket": len(booked[1]) + len(tracked[1]) + len(remitted[1]),
                             "booking": phase(booked), "tracking": phase(tracked), "remittance": phase(remitted)},
        "rto_of_invoiced_cod": {"zoho": len(rto[0]), "shiprocket": len(rto[1]), "zoho_calls": rto[0]},
        "remittance_line": {"zoho": len(remitted[0]), "shiprocket": len(remitted[1])},
        "cod_orders_per_day_by_plan": {plan: calls // cod_life for plan, calls in PLAN_DAILY_CALLS.items()
                                       if plan in ("free", "standard", "professional", "premium")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", choices=["default", "all"], default="default")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    overrides = {"SHIPROCKET_WEBHOOK_TOKEN": TRACKING_TOKEN, "TRACKING_POLL_INTERVAL_SECONDS": "0",
                 "REMITTANCE_POLL_INTERVAL_SECONDS": "0", "SWEEP_INTERVAL_SECONDS": "60",
                 "SWEEP_STALE_SECONDS": "600"}
    if args.labels == "all":
        overrides["TRACKING_WRITE_LABELS"] = '["*"]'
    sb = start_sandbox(Path(tempfile.mkdtemp(prefix="sb-calls-")), quiet=True, overrides=overrides)
    try:
        result = {"labels": args.labels, **asyncio.run(measure(sb))}
    finally:
        sb.stack.close()
    out = Path(args.out or ROOT / "bench" / "results" / f"calls_per_order_{args.labels}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items()}, indent=2))


if __name__ == "__main__":
    main()
