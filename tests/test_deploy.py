"""Deployment artefacts: the compose file parses and names only commands exercised here, and those
commands (alembic, uvicorn app.main:app, the arq worker and its health check) really work."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from sandbox.server import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

EXERCISED = {
    ("alembic", "upgrade", "head"),
    ("uvicorn", "app.main:app"),
    ("arq", "workers.main.WorkerSettings"),
    ("arq", "--check", "workers.main.WorkerSettings"),
}


def _ours(command: list[str]) -> tuple[str, ...]:
    return tuple(command[:3]) if command[:2] == ["alembic", "upgrade"] or command[:2] == ["arq", "--check"] \
        else tuple(command[:2])


def test_compose_parses_with_health_checks_and_restart_policies():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    for name in ("postgres", "redis", "api", "worker"):
        assert "healthcheck" in services[name], name
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    commands = [services[n]["command"] for n in ("migrate", "api", "worker")]
    commands.append(services["worker"]["healthcheck"]["test"][1:])
    for command in commands:
        assert _ours(command) in EXERCISED, command
    env = services["api"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://") and env["REDIS_URL"].startswith("redis://")


def test_dockerfile_runs_as_non_root_and_serves_app_main():
    text = (ROOT / "Dockerfile").read_text()
    assert "USER shipbridge" in text and "pip install ." in text
    cmd = [line for line in text.splitlines() if line.startswith("CMD")][0]
    assert _ours(yaml.safe_load(cmd[3:].strip())) in EXERCISED
    # dependencies get their own cached layer, before the code is copied
    assert text.index("pip install .") < text.index("COPY app ./app")


def test_alembic_cli_downgrades_and_upgrades(base_env, clean):
    for args in (["downgrade", "base"], ["upgrade", "head"]):
        result = subprocess.run([str(BIN / "alembic"), *args], cwd=ROOT, env=os.environ.copy(),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    current = subprocess.run([str(BIN / "alembic"), "current"], cwd=ROOT, env=os.environ.copy(),
                             capture_output=True, text=True, timeout=60)
    assert "(head)" in current.stdout


def test_uvicorn_serves_the_app_and_arq_worker_passes_its_health_check(base_env, clean):
    port = free_port()
    api = subprocess.Popen([str(BIN / "uvicorn"), "app.main:app", "--port", str(port)], cwd=ROOT,
                           env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen(shlex.split(f"{BIN / 'arq'} workers.main.WorkerSettings"), cwd=ROOT,
                              env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                if ready.status_code == 200:  # 503 until the worker's first heartbeat
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, ready and ready.text
        assert ready.json() == {"status": "ok", "postgres": "ok", "migrations": "ok", "redis": "ok", "worker": "ok"}
        check = None
        while time.monotonic() < deadline:
            check = subprocess.run([str(BIN / "arq"), "--check", "workers.main.WorkerSettings"], cwd=ROOT,
                                   env=os.environ.copy(), capture_output=True, text=True, timeout=30)
            if check.returncode == 0:
                break
            time.sleep(0.3)
        assert check is not None and check.returncode == 0, check.stdout + check.stderr
    finally:
        for proc in (api, worker):
            proc.terminate()
            proc.wait(timeout=10)


def test_one_shot_cli_commands_run_against_the_configured_stack(base_env, clean):
    for command, expect in (("sweep", "SweepResult("), ("poll-tracking", "PollResult("),
                            ("poll-remittances", "PollResult("), ("check-config", "configuration complete")):
        result = subprocess.run([sys.executable, "-m", "app.cli", command], cwd=ROOT, env=os.environ.copy(),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert expect in result.stdout, (command, result.stdout)
