"""Real Shipbridge processes for the fault suite: arq workers and the API, started as the deployment
starts them, and killed with SIGKILL (no chance to clean up)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from tests.faults.ledger import KILLED, injected


def start_worker(extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """A real arq worker process (the one that gets killed). It does not sweep: recovery is the
    survivor's job."""
    env = {**os.environ, "SWEEP_INTERVAL_SECONDS": "3600", **(extra_env or {})}
    return subprocess.Popen([sys.executable, "-m", "arq", "workers.main.WorkerSettings"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL as the fault under test (counted)."""
    if proc.poll() is None:
        KILLED.append(" ".join(str(a) for a in proc.args[1:]) if isinstance(proc.args, list) else str(proc.args))
        injected("process killed (SIGKILL)")
    stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End a process this suite started, with its children (uvicorn's worker processes): each is
    started in its own session, so its process group id is its pid."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=20)


def start_api(port: int, workers: int = 1) -> subprocess.Popen:
    """The real API server (uvicorn; `workers` processes) on `port`."""
    return subprocess.Popen([sys.executable, "-m", "app.cli", "api", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers)],
                            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


async def api_ready(url: str) -> bool:
    """The API answers (/healthz: /readyz also wants a worker's heartbeat, and tests start theirs later)."""
    try:
        async with httpx.AsyncClient() as c:
            return (await c.get(f"{url}/healthz", timeout=2)).status_code == 200
    except httpx.TransportError:
        return False
