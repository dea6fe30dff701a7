"""No secret in anything the processes say: the whole demo runs (API, worker, simulators, embedded
Postgres and Redis) and everything it prints, every process's log and the HTTP answers it shows are
scanned for each configured secret and for the tokens the upstreams issue."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.demo import WEBHOOK_SECRET
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim

ROOT = Path(__file__).resolve().parents[2]
# Tokens as they would appear if a request's headers were logged.
HEADER_LEAKS = re.compile(r"Zoho-oauthtoken\s+\S{8,}|Bearer\s+[A-Za-z0-9._-]{16,}|access_token\W+[A-Za-z0-9._-]{8,}")


@pytest.mark.slow
def test_the_demo_never_prints_or_logs_a_secret() -> None:
    sr, zoho = ShiprocketSim(), ZohoSim()
    secrets = {"SHIPROCKET_PASSWORD": sr.password, "ZOHO_CLIENT_SECRET": zoho.client_secret,
               "ZOHO_REFRESH_TOKEN": zoho.refresh_token, "ZOHO_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "SHIPROCKET_WEBHOOK_TOKEN": "demo-tracking-token", "OPS_TOKEN": "demo-ops-token"}
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run([sys.executable, "-m", "sandbox", "demo"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    said = {"stdout": result.stdout, "stderr": result.stderr}
    for log in (ROOT / "var" / "demo").glob("*.log"):
        said[log.name] = log.read_text(errors="replace")
    assert {"api.log", "worker.log"} <= set(said), sorted(said)  # the processes' own output was captured
    assert "Shiprocket logins:" in said["stdout"]  # ... and the demo did authenticate upstream
    for where, text in said.items():
        for name, value in secrets.items():
            assert value not in text, f"{name} appears in {where}"
        leaked = HEADER_LEAKS.search(text)
        assert leaked is None, f"a token appears in {where}: {leaked.group(0)[:30]}..."
