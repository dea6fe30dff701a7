"""Benchmark: a backlog of N confirmed orders arriving at once drains to AWBs on the Zoho sales orders
without breaching Zoho's per-minute limit, with flat memory, nothing lost and nothing doubled.

The real stack (API and arq worker processes, embedded Postgres and Redis) against the simulators. The
Zoho simulator enforces 100 calls a minute per organisation (429 beyond, zoho-api-facts §6) on a clock
`--scale` times faster, and Shipbridge's shared limiter gets the same scaled window (its 80 a minute leave
20 for the seller's other apps), so Zoho's pace is kept exactly, only faster. Figures are scaled back:
  * drain time (first webhook sent -> last AWB on Zoho) in Zoho minutes, against the physical limit
    N x Zoho calls per order / 100 a minute, and against our own 80-a-minute share;
  * the RSS of the API and the worker, sampled from /proc every half second over the whole run: after
    start-up, peak, at the end, and a timeline (flat = the end close to the start, no upward trend);
  * Zoho 429s answered (must be 0), Shiprocket orders and AWB write-backs (each must be exactly N), and
    orders written more often than their writes explain (must be 0).

Each order costs one AWB write-back and one "Pickup Scheduled" label. Under a backlog the label yields the
rate window to AWB writes (app/integrations/zoho/rate_limit.py): it is parked in zoho_deferred_writes and
the sweeper writes it later, so the drain to AWBs is paced by one Zoho call per order; `--label-minutes`
then waits that long (real) for the parked labels and reports how many were written (each exactly once).

Run:  nice -n 10 .venv/bin/python bench/backlog.py --orders 10000 --scale 3 [--concurrency 64]
Choose --scale so that Zoho's scaled pace (80 a minute x scale) stays under what the stack can process
on the machine, or the stack's CPU, not Zoho, paces the drain and the scaled-back minutes mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.demo import WEBHOOK_SECRET, Sandbox, start_sandbox  # noqa: E402

ZOHO_PER_MINUTE = 100  # Zoho's limit per organisation (the simulator's)
OUR_SHARE = 80  # ZOHO_MAX_CALLS_PER_WINDOW's default: what Shipbridge leaves the seller's other apps


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    def __init__(self, pids: dict[str, int], every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pids, self.every = pids, every
        self.start_rss = {name: rss_mb(pid) for name, pid in pids.items()}
        self.peak = dict(self.start_rss)
        self.last = dict(self.start_rss)
        self.timeline: list[tuple[float, dict[str, float]]] = []  # (seconds since start, RSS per process)
        self.stop_event = threading.Event()
        self.started = time.perf_counter()

    def run(self) -> None:
        while not self.stop_event.wait(self.every):
            for name, pid in self.pids.items():
                try:
                    self.last[name] = rss_mb(pid)
                except OSError:
                    continue
                self.peak[name] = max(self.peak[name], self.last[name])
            self.timeline.append((time.perf_counter() - self.started, dict(self.last)))

    def tenths(self) -> list[dict[str, float]]:
        """The RSS at every tenth of the run, to see whether memory trends up."""
        if not self.timeline:
            return []
        step = max(1, len(self.timeline) // 10)
        picked = self.timeline[step - 1::step][:10]
        return [{"at_s": round(t, 0), **{k: round(v, 1) for k, v in rss.items()}} for t, rss in picked]


def new_orders(sb: Sandbox, n: int) -> list[str]:
    item_id = str(sb.zoho.add_item(name="Backlog Tee", sku="BACKLOG-1", rate=599, stock=10 * n + 100,
                                   package_details={"length": 25, "width": 20, "height": 3, "weight": 250,
                                                    "weight_unit": "g", "dimension_unit": "cm"})["item_id"])
    ids = []
    for i in range(n):
        so = sb.zoho.create_salesorder(
            customer_name="Backlog Customer", email="backlog@example.in", phone="9845000000",
            shipping_address={"attention": "Backlog Customer", "address": f"{i} MG Road", "city": "Bengaluru",
                              "state": "Karnataka", "zip": "560001", "country": "India", "phone": "9845000000"},
            lines=[(item_id, 1)], payment_terms_label="Cash on Delivery")
        sb.zoho.confirm_salesorder(str(so["salesorder_id"]))
        ids.append(str(so["salesorder_id"]))
    return ids


async def send_all(sb: Sandbox, ids: list[str], concurrency: int) -> float:
    """Every webhook, signed, through the real API, `concurrency` at a time; returns seconds taken."""
    bodies = [sb.zoho.webhook_body(so_id) for so_id in ids]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    started = time.perf_counter()

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            raw = queue.get_nowait()
            outcome = ""
            for _ in range(5):  # as Zoho does, a delivery that failed is sent again (the inbox dedupes)
                try:
                    r = await client.post(f"{sb.api_url}/webhooks/zoho/salesorders", content=raw,
                                          headers={"Content-Type": "application/json",
                                                   "X-Zoho-Webhook-Signature": sb.zoho.sign(raw, WEBHOOK_SECRET)})
                except httpx.TransportError as exc:  # a kept-alive connection closed under us
                    outcome = type(exc).__name__
                else:
                    if r.status_code == 200:
                        break
                    outcome = f"{r.status_code} {r.text}"
                await asyncio.sleep(0.5)
            else:
                raise RuntimeError(f"webhook refused: {outcome}")

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*(sender(client) for _ in range(concurrency)))
    return time.perf_counter() - started


def awbs_written(sb: Sandbox, ids: list[str]) -> int:
    return sum(1 for so_id in ids if sb.zoho.custom_field(so_id, "cf_awb_number"))


def labels_written(sb: Sandbox, ids: list[str]) -> int:
    return sum(1 for so_id in ids if sb.zoho.custom_field(so_id, "cf_shipment_status") == "Pickup Scheduled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--scale", type=float, default=60.0, help="Zoho minutes per real minute")
    parser.add_argument("--concurrency", type=int, default=64, help="webhooks in flight at once")
    parser.add_argument("--timeout-minutes", type=float, default=None,
                        help="real minutes to wait for the AWBs; default 1.5x the drain at our Zoho share, at least 30")
    parser.add_argument("--label-minutes", type=float, default=2.0,
                        help="real minutes to wait, after the last AWB, for the labels parked during the drain")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "backlog.json"))
    args = parser.parse_args()
    if args.timeout_minutes is None:  # 10,000 orders at 3x need about 42 real minutes: don't give up at 30
        args.timeout_minutes = max(30.0, 1.5 * args.orders / OUR_SHARE / args.scale)
    window = 60.0 / args.scale
    sb = start_sandbox(Path(tempfile.mkdtemp(prefix="sb-backlog-")), quiet=True, overrides={
        "ZOHO_MAX_CALLS_PER_WINDOW": str(OUR_SHARE), "ZOHO_RATE_WINDOW_SECONDS": str(window),
        "SWEEP_INTERVAL_SECONDS": "30", "SWEEP_STALE_SECONDS": "600", "TRACKING_POLL_INTERVAL_SECONDS": "0",
        "REMITTANCE_POLL_INTERVAL_SECONDS": "0"})
    try:
        result = asyncio.run(run(sb, args, window))
    finally:
        sb.stack.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


async def run(sb: Sandbox, args: argparse.Namespace, window: float) -> dict[str, object]:
    n = args.orders
    ids = new_orders(sb, n)
    load_start = [round(x, 2) for x in os.getloadavg()]
    sb.zoho.quota.configure(per_minute=ZOHO_PER_MINUTE, clock_scale=args.scale)
    zoho_mark, sr_mark = len(sb.zoho.calls), len(sb.shiprocket.calls)
    sampler = RssSampler({"api": sb.stack.procs[0].pid, "worker": sb.stack.procs[1].pid})
    sampler.start()
    started = time.perf_counter()
    sent_seconds = await send_all(sb, ids, args.concurrency)
    deadline = started + args.timeout_minutes * 60
    done = 0
    while time.perf_counter() < deadline:
        done = awbs_written(sb, ids)
        if done == n:
            break
        await asyncio.sleep(1.0)
    drain = time.perf_counter() - started
    labels_at_drain = labels_written(sb, ids)
    label_deadline = time.perf_counter() + args.label_minutes * 60
    labels = labels_at_drain
    while labels < n and time.perf_counter() < label_deadline:
        await asyncio.sleep(2.0)
        labels = labels_written(sb, ids)
    labels_seconds = time.perf_counter() - started
    sampler.stop_event.set()
    zoho_calls = [c for c in sb.zoho.calls[zoho_mark:] if not c[1].startswith("/oauth/")]
    puts = Counter(path.rsplit("/", 1)[1] for method, path in zoho_calls if method == "PUT")
    # An order's PUTs: its AWB write-back, plus its label if Zoho shows it (written now or flushed later).
    expected = {so_id: 1 + (sb.zoho.custom_field(so_id, "cf_shipment_status") == "Pickup Scheduled")
                for so_id in ids}
    sr_orders = [o for o in sb.shiprocket.orders.values() if o.get("channel_order_id", "").startswith("SO-")]
    awb_calls = n  # one AWB write-back per order: what paces the drain
    zoho_minutes = drain / 60 * args.scale
    return {
        "orders": n, "scale": args.scale, "limiter_window_seconds": window,
        "drained": done == n, "awbs_on_zoho": done,
        "webhooks_sent_seconds": round(sent_seconds, 1),
        "drain_seconds_real": round(drain, 1),
        "drain_zoho_minutes": round(zoho_minutes, 1),
        "orders_per_second_real": round(done / drain, 2),
        "physical_limit_minutes": round(awb_calls / ZOHO_PER_MINUTE, 1),
        "our_share_limit_minutes": round(awb_calls / OUR_SHARE, 1),
        "drain_over_physical_limit": round(zoho_minutes / (awb_calls / ZOHO_PER_MINUTE), 2),
        "drain_over_our_share": round(zoho_minutes / (awb_calls / OUR_SHARE), 2),
        "labels_on_zoho_at_drain": labels_at_drain, "labels_on_zoho_at_end": labels,
        "labels_end_seconds_real": round(labels_seconds, 1),
        "zoho_calls": len(zoho_calls), "zoho_calls_per_order": round(len(zoho_calls) / n, 3),
        "zoho_429s": sb.zoho.quota.refused,
        "shiprocket_calls": len(sb.shiprocket.calls) - sr_mark,
        "shiprocket_orders": len(sr_orders),
        "shiprocket_orders_distinct": len({o.get("channel_order_id") for o in sr_orders}),
        "zoho_salesorder_puts": sum(puts.values()),
        "orders_written_twice": sum(1 for so_id in ids if puts.get(so_id, 0) > expected[so_id]),
        "orders_missing_a_write": sum(1 for so_id in ids if puts.get(so_id, 0) < expected[so_id]),
        "rss_mb_start": {k: round(v, 1) for k, v in sampler.start_rss.items()},
        "rss_mb_peak": {k: round(v, 1) for k, v in sampler.peak.items()},
        "rss_mb_end": {k: round(v, 1) for k, v in sampler.last.items()},
        "rss_mb_timeline": sampler.tenths(),
        "load_average_start": load_start, "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    main()
