"""Benchmark: webhook ingest throughput and latency, Shipbridge against the naive durable endpoint
(bench/naive_app.py: FastAPI + auth check + one asyncpg INSERT ... ON CONFLICT + one arq enqueue), both
measured in the same run on the same embedded Postgres and Redis, one uvicorn worker process each, no
arq worker running. The load generator is wrk (C; its Lua only cycles through requests signed
beforehand, so it does no crypto while measuring), `wrk -t2 -c32` by default.

Every request is a distinct delivery (its own salesorder_id / awb+timestamp / remittance_id) with a
valid signature or key, so each one is authenticated, parsed, stored and enqueued. Tables and Redis are
emptied between runs. Rounds alternate baseline and Shipbridge per endpoint; medians are reported.

Run:  .venv/bin/python bench/ingest.py [--rounds 3] [--duration 8] [--connections 32]
wrk:  apt-get install -y wrk   (done automatically when running as root and it is missing)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.migrate import upgrade  # noqa: E402
from sandbox.embedded import EmbeddedPostgres, EmbeddedRedis  # noqa: E402
from sandbox.server import free_port  # noqa: E402
from sandbox.zoho import ZohoSim  # noqa: E402

SECRET = "benchWebhookSecret123"
TOKEN = "bench-shiprocket-token"
ENDPOINTS = {  # name: (path, auth header)
    "zoho": ("/webhooks/zoho/salesorders", "X-Zoho-Webhook-Signature"),
    "tracking": ("/webhooks/tracking", "x-api-key"),
    "remittance": ("/webhooks/cod-remittance", "x-api-key"),
}
NAIVE_TABLE = ("CREATE TABLE IF NOT EXISTS bench_naive_inbox (id bigserial PRIMARY KEY, source text NOT NULL, "
               "key text NOT NULL, body bytea NOT NULL, UNIQUE (source, key))")


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        if shutil.which("wrk"):
            return str(shutil.which("wrk"))
    sys.exit("wrk is needed: apt-get install -y wrk")


def zoho_template() -> str:
    """A real-shaped Default Payload body (the Zoho simulator's), with the id as a placeholder."""
    sim = ZohoSim()
    from decimal import Decimal
    item = sim.add_item(name="Steel Bottle 1L", sku="SSB-1L", rate=Decimal("499"), stock=50,
                        package_details={"length": 28, "width": 8, "height": 8, "weight": 420,
                                         "weight_unit": "g", "dimension_unit": "cm"})
    so = sim.create_salesorder(
        customer_name="Priya Sharma", email="priya@example.com", phone="9876543210",
        shipping_address={"attention": "Priya Sharma", "address": "12 MG Road", "street2": "", "city": "Bengaluru",
                          "state": "Karnataka", "zip": "560001", "country": "India", "phone": "9876543210"},
        lines=[(str(item["item_id"]), 2)], payment_terms_label="COD")
    so_id = str(so["salesorder_id"])
    sim.confirm_salesorder(so_id)
    return sim.webhook_body(so_id).decode().replace(so_id, "{ID}")


def tracking_body(n: int) -> dict[str, Any]:
    """Sample A: one scan event of one parcel."""
    when = datetime(2026, 11, 20, 10, 0, tzinfo=UTC) + timedelta(seconds=n)
    stamp = when.strftime("%d %m %Y %H:%M:%S")
    return {"awb": f"19041{n:09d}", "courier_name": "Delhivery Surface", "current_status": "IN TRANSIT",
            "current_status_id": 20, "shipment_status": "In Transit", "shipment_status_id": 18,
            "current_timestamp": stamp, "order_id": f"SO-{n:06d}", "sr_order_id": 700000000 + n,
            "awb_assigned_date": "2026-11-19 10:00:00", "pickup_scheduled_date": "2026-11-19 14:00:00",
            "etd": "2026-11-23 18:00:00", "is_return": 0, "channel_id": 1234, "pod_status": "", "pod": "Not Available",
            "scans": [{"date": "2026-11-19 18:00:00", "status": "X-PPOM", "activity": "Picked up",
                       "location": "Mumbai_Andheri_H (Maharashtra)", "sr-status": "42", "sr-status-label": "PICKED UP"},
                      {"date": when.strftime("%Y-%m-%d %H:%M:%S"), "status": "X-DLL2F", "activity": "In transit",
                       "location": "Bengaluru_Hub (Karnataka)", "sr-status": "18", "sr-status-label": "IN TRANSIT"}]}


def remittance_body(n: int) -> dict[str, Any]:
    return {"remittance_id": f"CRF{n:08d}", "remittance_date": "2026-11-20", "bank_transfer_amount": "2886.00",
            "orders": [{"awb": f"19042{n:07d}{k}", "order_id": f"SO-{n:06d}-{k}", "cod_amount": "998.00",
                        "deducted_charges": "36.00"} for k in range(3)]}


def write_requests(directory: Path, count: int) -> dict[str, Path]:
    """One file per endpoint of `count` distinct, authenticated deliveries (see bench/ingest.lua)."""
    template = zoho_template()
    files: dict[str, Path] = {}
    for name in ENDPOINTS:
        path = directory / f"{name}.txt"
        with path.open("w") as out:
            for n in range(count):
                if name == "zoho":
                    body = template.replace("{ID}", str(4_600_000_000_000_000_000 + n))
                    auth = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
                else:
                    data = tracking_body(n) if name == "tracking" else remittance_body(n)
                    body, auth = json.dumps(data, separators=(",", ":")), TOKEN
                out.write(f"{auth}\t{body}\n")
        files[name] = path
    return files


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2:].split()  # fields from `state` on (the name may hold spaces)


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return total


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == parent:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def redis_pids(redis_url: str) -> list[int]:
    """The embedded redis-server (it daemonizes: found by the address it serves)."""
    address = redis_url.split("//", 1)[1].split("/", 1)[0]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "redis-server" in cmdline and address in cmdline:
                found.append(int(entry.name))
    return found


def process_groups(pg_data: Path, redis_url: str, servers: dict[str, int]) -> dict[str, list[int]]:
    """The processes that share the cores during a run: each uvicorn server, Postgres (postmaster and
    its backends), Redis."""
    postmaster = int((pg_data / "postmaster.pid").read_text().split()[0])
    redis = redis_pids(redis_url)
    return {**{name: [pid] for name, pid in servers.items()},
            "postgres": [postmaster, *children_of(postmaster)], "redis": redis}


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    dead = "http://127.0.0.1:9"  # no worker runs: nothing calls upstream
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "ZOHO_WEBHOOK_SECRET": SECRET,
            "SHIPROCKET_WEBHOOK_TOKEN": TOKEN, "OPS_TOKEN": "bench-ops-token", "LOG_LEVEL": "WARNING",
            "SHIPROCKET_BASE_URL": dead, "SHIPROCKET_EMAIL": "bench@example.in", "SHIPROCKET_PASSWORD": "x",
            "SHIPROCKET_PICKUP_LOCATION": "Primary", "SHIPROCKET_PICKUP_PINCODE": "400001",
            "ZOHO_ACCOUNTS_URL": dead, "ZOHO_API_URL": dead, "ZOHO_CLIENT_ID": "x", "ZOHO_CLIENT_SECRET": "x",
            "ZOHO_REFRESH_TOKEN": "x", "ZOHO_ORGANIZATION_ID": "1"}


def start_server(module: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", module, "--port", str(port), "--no-access-log",
                             "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/docs", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    sys.exit(f"{module} did not start")


def wrk(binary: str, url: str, args: argparse.Namespace, script_args: list[str] | None = None) -> dict[str, Any]:
    cmd = [binary, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s"]
    if script_args:
        cmd += ["-s", str(ROOT / "bench" / "ingest.lua"), url, "--", *script_args]
    else:
        cmd += ["-s", str(ROOT / "bench" / "ingest.lua"), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    r = json.loads(line[len("WRKJSON "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


async def reset(database_url: str, redis_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("TRUNCATE inbox_events, bench_naive_inbox RESTART IDENTITY")
    finally:
        await conn.close()
    import redis.asyncio as aioredis
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


async def counters(database_url: str, redis_url: str) -> dict[str, int]:
    """Server-side work counters: Postgres transactions and statements, Redis commands. Their deltas per
    request are the round trips each endpoint costs (a statement outside a transaction is one transaction)."""
    conn = await asyncpg.connect(database_url)
    try:
        xacts = await conn.fetchval("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                    "WHERE datname = current_database()")
        await conn.execute("SELECT pg_stat_clear_snapshot()")
    finally:
        await conn.close()
    import redis.asyncio as aioredis
    client = aioredis.Redis.from_url(redis_url)
    try:
        stats = await client.info("stats")
    finally:
        await client.aclose()
    return {"pg_xacts": int(xacts), "redis_commands": int(stats["total_commands_processed"])}


async def check_stored(database_url: str, expect_min: int) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT state, count(*) FROM inbox_events GROUP BY state")
    finally:
        await conn.close()
    return {r["state"]: r["count"] for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=40_000, help="distinct deliveries per endpoint")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    binary = ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="sbb-"))
    pg, rd = EmbeddedPostgres(scratch / "pg"), EmbeddedRedis(scratch / "redis")
    pg.start()
    rd.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        database_url = pg.create_database("bench")
        upgrade(database_url)
        asyncio.run(_exec(database_url, NAIVE_TABLE))
        files = write_requests(scratch, args.requests)
        env = server_env(database_url, rd.url)
        naive, naive_url = start_server("bench.naive_app:app", env)
        procs.append(naive)
        api, api_url = start_server("app.main:app", env)
        procs.append(api)
        results: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for name in args.endpoints.split(","):
            path, header = ENDPOINTS[name]
            results[name] = {"baseline": [], "shipbridge": []}
            for rnd in range(args.rounds):
                order = [("baseline", naive_url), ("shipbridge", api_url)]
                for target, base in order if rnd % 2 == 0 else order[::-1]:  # neither always runs first
                    asyncio.run(reset(database_url, rd.url))
                    time.sleep(0.6)  # pg_stat_database is flushed by backends at most every 500 ms
                    before = asyncio.run(counters(database_url, rd.url))
                    groups = process_groups(scratch / "pg", rd.url, {"baseline": naive.pid, "shipbridge": api.pid})
                    cpu_before = {g: cpu_seconds(pids) for g, pids in groups.items()}
                    wrk_before = os.times()
                    r = wrk(binary, base + path, args, [str(files[name]), str(args.threads), header])
                    # CPU each process spent during the run, per request: who uses the 2 cores.
                    wrk_after = os.times()
                    r["cpu_ms_per_request"] = {
                        g: round((cpu_seconds(pids) - cpu_before[g]) * 1000 / r["requests"], 3)
                        for g, pids in groups.items() if g in (target, "postgres", "redis")}
                    r["cpu_ms_per_request"]["wrk"] = round(
                        ((wrk_after.children_user + wrk_after.children_system)
                         - (wrk_before.children_user + wrk_before.children_system)) * 1000 / r["requests"], 3)
                    r["load_average"] = [round(x, 2) for x in os.getloadavg()]
                    time.sleep(1.5)  # let the background enqueues finish and the statistics arrive
                    after = asyncio.run(counters(database_url, rd.url))
                    # per request, with the counting itself (a transaction, a few Redis commands) in the noise
                    requests = r["requests"]
                    r["pg_xacts_per_request"] = (after["pg_xacts"] - before["pg_xacts"]) / requests
                    r["redis_commands_per_request"] = (after["redis_commands"] - before["redis_commands"]) / requests
                    if target == "shipbridge":
                        r["stored"] = asyncio.run(check_stored(database_url, r["requests"]))
                    results[name][target].append(r)
                    print(f"{name:10} {target:10} round {rnd + 1}: {r['rps']:7.0f} req/s"
                          f"  p50 {r['p50_us'] / 1000:6.1f} ms  p99 {r['p99_us'] / 1000:6.1f} ms"
                          f"  non-2xx {r['non2xx']}  errors {r['errors']}  per request: Postgres transactions"
                          f" {r['pg_xacts_per_request']:.2f}, Redis commands {r['redis_commands_per_request']:.2f}"
                          + (f"  stored {r['stored']}" if "stored" in r else "")
                          + f"\n{'':22}CPU ms per request {r['cpu_ms_per_request']}  load {r['load_average']}",
                          flush=True)
                    if r["requests"] > args.requests:
                        print(f"  warning: {r['requests']} requests > {args.requests} distinct deliveries; "
                              "later ones were duplicates (raise --requests)")
        report(results, args)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        rd.stop()
        pg.stop()
        shutil.rmtree(scratch, ignore_errors=True)


async def _exec(database_url: str, sql: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def report(results: dict[str, dict[str, list[dict[str, Any]]]], args: argparse.Namespace) -> None:
    summary: dict[str, Any] = {}
    print(f"\nmedians of {args.rounds} rounds, wrk -t{args.threads} -c{args.connections} -d{args.duration}s")
    print("| endpoint | baseline req/s | p50 | p99 | Shipbridge req/s | p50 | p99 | throughput ratio "
          "| p99 ratio | PG xacts / Redis cmds per request, baseline → Shipbridge |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, by_target in results.items():
        med = {t: {k: statistics.median(r[k] for r in runs)
                   for k in ("rps", "p50_us", "p99_us", "pg_xacts_per_request", "redis_commands_per_request")}
               for t, runs in by_target.items()}
        ratio = med["shipbridge"]["rps"] / med["baseline"]["rps"]
        summary[name] = {**med, "ratio": ratio}
        b, s = med["baseline"], med["shipbridge"]
        print(f"| {ENDPOINTS[name][0]} | {b['rps']:.0f} | {b['p50_us'] / 1000:.1f} ms | {b['p99_us'] / 1000:.1f} ms "
              f"| {s['rps']:.0f} | {s['p50_us'] / 1000:.1f} ms | {s['p99_us'] / 1000:.1f} ms | {ratio:.2f}× "
              f"| {s['p99_us'] / b['p99_us']:.2f}× | {b['pg_xacts_per_request']:.2f} / "
              f"{b['redis_commands_per_request']:.2f} → {s['pg_xacts_per_request']:.2f} / "
              f"{s['redis_commands_per_request']:.2f} |")
    print("\nCPU ms per request (median of rounds; the 2 cores are shared by all of these):")
    for name, by_target in results.items():
        for target, runs in by_target.items():
            groups = runs[0]["cpu_ms_per_request"].keys()
            med = {g: round(statistics.median(r["cpu_ms_per_request"][g] for r in runs), 3) for g in groups}
            rps = statistics.median(r["rps"] for r in runs)
            busy = sum(med.values()) * rps / 1000 / (os.cpu_count() or 1)
            summary[name].setdefault("cpu_ms_per_request", {})[target] = med
            print(f"  {name:10} {target:10} {med}  => {busy:.0%} of the machine's cores at {rps:.0f} req/s")
    print(f"load average at the end: {[round(x, 2) for x in os.getloadavg()]}")
    label = f"-{args.label}" if args.label else ""
    out = ROOT / "bench" / "results" / f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%S}{label}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                                                "python": platform.python_version()},
                               "summary": summary, "runs": results}, indent=1))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
