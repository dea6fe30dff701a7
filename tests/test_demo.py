"""The README's main command keeps working: the sandbox demo on embedded Postgres and Redis."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_green_on_embedded_servers():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run([sys.executable, "-m", "app.cli", "demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "Postgres: embedded" in out and "Redis:    embedded" in out
    assert "5/5 orders ended as expected" in out
    assert "Serviceability Failed" in out and "awb_retry: attempt 1 failed" in out
    assert "Zoho shows 'Delivered'" in out and "Zoho shows 'Returned'" in out
    assert "Books: 1 payment" in out and "-> ₹0.00" in out
