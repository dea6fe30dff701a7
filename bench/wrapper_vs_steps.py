"""Benchmark: Shiprocket's all-in-one wrapper (`POST /shipments/create/forward-shipment`) against the
separate steps Shipbridge uses (create, assign AWB, pickup, label, manifest), with simulated upstream
latency, in the same run.

Two kinds of figure:
  * through the real stack (API + arq worker processes, Postgres, Redis), the steps as shipped: webhook ->
    AWB on the Zoho sales order, webhook -> "Pickup Scheduled" on it, webhook -> manifested;
  * the upstream floor of each way (the same calls made directly, back to back):
      steps:   serviceability, create, assign, Zoho PUT (AWB) | pickup, Zoho PUT (Pickup Scheduled) | label, manifest
      wrapper: serviceability, wrapper (create+AWB+pickup+label+manifest), Zoho PUT (AWB + Pickup Scheduled)
    and the wrapper through the stack estimated as its floor plus the stack's own measured overhead.
It also counts Shiprocket and Zoho calls per order from the simulators' request logs.

Run:  .venv/bin/python bench/wrapper_vs_steps.py [--orders 10] [--shiprocket-ms 150] [--zoho-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.e2e_latency import new_order, post_webhook  # noqa: E402
from sandbox.demo import Sandbox, start_sandbox  # noqa: E402


async def until(check, timeout: float = 60) -> float:  # noqa: ANN001 - a zero-argument predicate
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if check():
            return time.perf_counter()
        # Not tighter: the simulators serve from threads of this process, and a busy poll would slow
        # them for the stack (which this waits on) but not for the floors.
        await asyncio.sleep(0.01)
    raise TimeoutError("condition not met")


def adhoc(number: str) -> dict[str, object]:
    return {"order_id": number, "order_date": "2026-12-02", "pickup_location": "Primary Warehouse",
            "billing_customer_name": "Bench", "billing_last_name": "Customer", "billing_address": "1 Residency Road",
            "billing_city": "Bengaluru", "billing_pincode": "560025", "billing_state": "Karnataka",
            "billing_country": "India", "billing_email": "bench@example.in", "billing_phone": "9845000000",
            "shipping_is_billing": True, "order_items": [{"name": "x", "sku": "x", "units": 1, "selling_price": 499}],
            "payment_method": "COD", "sub_total": 499, "length": 10, "breadth": 10, "height": 10, "weight": 0.5}


class Floor:
    """The upstream calls of one order made directly, with tokens in hand."""

    def __init__(self, client: httpx.AsyncClient, sb: Sandbox, sr_token: str, zoho_token: str) -> None:
        self.client, self.sb = client, sb
        self.base = sb.urls["shiprocket"] + "/v1/external"
        self.sr = {"Authorization": f"Bearer {sr_token}"}
        self.zh = {"Authorization": f"Zoho-oauthtoken {zoho_token}"}

    async def _serviceability(self) -> None:
        await self.client.get(f"{self.base}/courier/serviceability/", headers=self.sr, params={
            "pickup_postcode": "400001", "delivery_postcode": "560025", "weight": "0.5", "cod": 1})

    async def _zoho(self, so_id: str, fields: dict[str, str]) -> None:
        url = f"{self.sb.urls['zoho']}/inventory/v1/salesorders/{so_id}"
        await self.client.put(url, headers=self.zh, params={"organization_id": self.sb.zoho.organization_id},
                              json={"custom_fields": [{"api_name": k, "value": v} for k, v in fields.items()]})

    async def steps(self, so_id: str, number: str) -> tuple[float, float, float]:
        started = time.perf_counter()
        await self._serviceability()
        created = (await self.client.post(f"{self.base}/orders/create/adhoc", headers=self.sr,
                                          json=adhoc(number))).json()
        ids = {"shipment_id": [created["shipment_id"]]}
        awb = (await self.client.post(f"{self.base}/courier/assign/awb", headers=self.sr,
                                      json={"shipment_id": created["shipment_id"]})).json()
        await self._zoho(so_id, {"cf_awb_number": awb["response"]["data"]["awb_code"],
                                 "cf_shipment_status": "AWB Assigned"})
        t_awb = time.perf_counter()
        await self.client.post(f"{self.base}/courier/generate/pickup", headers=self.sr, json=ids)
        await self._zoho(so_id, {"cf_shipment_status": "Pickup Scheduled"})
        t_pickup = time.perf_counter()
        await self.client.post(f"{self.base}/courier/generate/label", headers=self.sr, json=ids)
        await self.client.post(f"{self.base}/manifests/generate", headers=self.sr, json=ids)
        done = time.perf_counter()
        return t_awb - started, t_pickup - started, done - started

    async def wrapper(self, so_id: str, number: str) -> float:
        started = time.perf_counter()
        await self._serviceability()
        body = (await self.client.post(f"{self.base}/shipments/create/forward-shipment", headers=self.sr,
                                       json={**adhoc(number), "courier_id": ""})).json()
        await self._zoho(so_id, {"cf_awb_number": body["payload"]["awb_code"],
                                 "cf_shipment_status": "Pickup Scheduled"})
        return time.perf_counter() - started


async def measure(sb: Sandbox, orders: int, sr_latency: float, zoho_latency: float) -> dict[str, object]:
    item_id = str(sb.zoho.add_item(name="Bench Bottle", sku="BENCH-1", rate=499, stock=100000,
                                   package_details={"length": 20, "width": 8, "height": 8, "weight": 400,
                                                    "weight_unit": "g", "dimension_unit": "cm"})["item_id"])
    zoho_url = sb.urls["zoho"]
    async with httpx.AsyncClient(timeout=60) as client:
        login = await client.post(f"{sb.urls['shiprocket']}/v1/external/auth/login",
                                  json={"email": sb.shiprocket.email, "password": sb.shiprocket.password})
        tok = await client.post(f"{zoho_url}/oauth/v2/token", data={
            "grant_type": "refresh_token", "client_id": sb.zoho.client_id, "client_secret": sb.zoho.client_secret,
            "refresh_token": sb.zoho.refresh_token})
        floor = Floor(client, sb, login.json()["token"], tok.json()["access_token"])
        warm = new_order(sb, item_id, 0)  # logins, connections, imports
        await post_webhook(client, sb, warm)
        await until(lambda: sb.zoho.custom_field(warm, "cf_shipment_status") == "Pickup Scheduled")
        await asyncio.sleep(0.5)  # let its label and manifest finish before counting
        sb.shiprocket.faults.set_latency(sr_latency)
        sb.zoho.faults.set_latency(zoho_latency)

        stack_awb, stack_pickup, f_steps, f_wrapper = [], [], [], []
        sr_mark, zoho_mark = len(sb.shiprocket.calls), len(sb.zoho.calls)
        for n in range(1, orders + 1):
            so_id = new_order(sb, item_id, n)
            started = time.perf_counter()
            await post_webhook(client, sb, so_id)
            stack_awb.append(await until(lambda so=so_id: bool(sb.zoho.custom_field(so, "cf_awb_number")))
                             - started)
            stack_pickup.append(await until(
                lambda so=so_id: sb.zoho.custom_field(so, "cf_shipment_status") == "Pickup Scheduled") - started)
        await asyncio.sleep(2 * sr_latency + 0.5)  # the last order's label and manifest
        sr_calls = Counter(p for _, p in sb.shiprocket.calls[sr_mark:])
        zoho_calls = Counter(f"{m} {p.split('/')[3] if p.count('/') >= 3 else p}"
                             for m, p in sb.zoho.calls[zoho_mark:])
        for n in range(1, orders + 1):
            f_steps.append(await floor.steps(new_order(sb, item_id, 10_000 + n), f"FLOOR-S-{n}"))
            f_wrapper.append(await floor.wrapper(new_order(sb, item_id, 20_000 + n), f"FLOOR-W-{n}"))

    def ms(v: float) -> float:
        return round(v * 1000)

    def p50(values: list[float]) -> float:
        return statistics.median(values)

    overhead = p50(stack_awb) - p50([s[0] for s in f_steps])
    return {
        "orders": orders, "latency_ms": {"shiprocket": ms(sr_latency), "zoho": ms(zoho_latency)},
        "steps_through_stack_p50_ms": {"webhook_to_awb_on_zoho": ms(p50(stack_awb)),
                                       "webhook_to_pickup_scheduled_on_zoho": ms(p50(stack_pickup))},
        "steps_floor_p50_ms": {"awb_on_zoho": ms(p50([s[0] for s in f_steps])),
                               "pickup_scheduled_on_zoho": ms(p50([s[1] for s in f_steps])),
                               "manifested": ms(p50([s[2] for s in f_steps]))},
        "wrapper_floor_p50_ms": {"awb_and_pickup_scheduled_on_zoho": ms(p50(f_wrapper))},
        "stack_overhead_p50_ms": ms(overhead),
        "wrapper_through_stack_estimate_p50_ms": ms(p50(f_wrapper) + overhead),
        "calls_per_order": {"shiprocket": {k: round(v / orders, 2) for k, v in sorted(sr_calls.items())},
                            "zoho": {k: round(v / orders, 2) for k, v in sorted(zoho_calls.items())}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--shiprocket-ms", type=float, default=150)
    parser.add_argument("--zoho-ms", type=float, default=100)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "wrapper_vs_steps.json"))
    args = parser.parse_args()
    sb = start_sandbox(Path(tempfile.mkdtemp(prefix="sb-bench-")), quiet=True,
                       overrides={"SWEEP_INTERVAL_SECONDS": "60", "SWEEP_STALE_SECONDS": "300"})
    try:
        result = asyncio.run(measure(sb, args.orders, args.shiprocket_ms / 1000, args.zoho_ms / 1000))
    finally:
        sb.stack.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
