"""`shipbridge doctor` passes against the simulators and fails with a named reason for each broken setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr

from app.integrations.zoho.scopes import REQUIRED_SCOPES
from app.ops.doctor import Check, run_doctor
from app.settings import Settings
from sandbox.server import free_port
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim
from tests.spine_helpers import confirmed_order

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "https://orders.example.in"


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


async def test_doctor_passes_against_the_simulators(settings: Settings, clean: None, zoho_sim: ZohoSim) -> None:
    confirmed_order(zoho_sim)  # an order to check the custom fields on
    checks = await run_doctor(settings, PUBLIC)
    assert all(c.ok for c in checks), [c.line() for c in checks if not c.ok]
    names = by_name(checks)
    assert "https://orders.example.in/webhooks/tracking" in names["webhook URL for Shiprocket tracking"].detail
    assert set(names) >= {"settings", "postgres", "migrations", "redis", "shiprocket login",
                          "shiprocket pickup location", "zoho token refresh", "zoho organisation", "zoho scopes",
                          "zoho custom fields", "webhook URL for Zoho"}


async def test_doctor_names_each_broken_setting(settings: Settings, clean: None, zoho_sim: ZohoSim,
                                                shiprocket_sim: ShiprocketSim) -> None:
    confirmed_order(zoho_sim)
    wrong_pickup = by_name(await run_doctor(settings.model_copy(
        update={"SHIPROCKET_PICKUP_LOCATION": "primary warehouse"}), PUBLIC))
    assert not wrong_pickup["shiprocket pickup location"].ok
    assert "did you mean 'Primary Warehouse'" in wrong_pickup["shiprocket pickup location"].detail

    del zoho_sim.so_custom_fields["cf_awb_number"]
    zoho_sim.scopes = tuple(s for s in REQUIRED_SCOPES if not s.startswith("ZohoBooks.customerpayments"))
    zoho_sim.expire_tokens()  # the next token is issued under the narrower grant
    zoho_broken = by_name(await run_doctor(settings, PUBLIC))
    assert not zoho_broken["zoho custom fields"].ok and "cf_awb_number" in zoho_broken["zoho custom fields"].detail
    assert "cf_shipment_status" not in zoho_broken["zoho custom fields"].detail
    assert not zoho_broken["zoho scopes"].ok and "ZohoBooks.customerpayments" in zoho_broken["zoho scopes"].detail
    zoho_sim.scopes = REQUIRED_SCOPES

    dead = f"127.0.0.1:{free_port()}"
    cases = [
        ({"SHIPROCKET_PASSWORD": SecretStr("wrong")}, "shiprocket login", "refused"),
        ({"ZOHO_REFRESH_TOKEN": SecretStr("1000.wrong")}, "zoho token refresh", "refused"),
        ({"ZOHO_ORGANIZATION_ID": "999"}, "zoho organisation", "999 not among"),
        ({"REDIS_URL": f"redis://{dead}/0"}, "redis", "unreachable"),
        ({"DATABASE_URL": f"postgresql://postgres@{dead}/x"}, "postgres", "unreachable"),
        ({"OPS_TOKEN": SecretStr("")}, "settings", "missing: OPS_TOKEN"),
    ]
    for change, name, words in cases:
        checks = by_name(await run_doctor(settings.model_copy(update=change), PUBLIC))
        assert not checks[name].ok and words in checks[name].detail, (change, checks[name].line())
    banned = by_name(await run_doctor(settings, "https://shop.example.in/srhooks"))
    assert not banned["webhook URL for Shiprocket tracking"].ok
    assert "'sr'" in banned["webhook URL for Shiprocket tracking"].detail


def test_doctor_command_prints_lines_and_exits_non_zero_on_failure(base_env: dict[str, str], clean: None) -> None:
    env = {**os.environ, "SHIPROCKET_PICKUP_LOCATION": "Nowhere", "PUBLIC_BASE_URL": PUBLIC}
    result = subprocess.run([sys.executable, "-m", "app.cli", "doctor"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  shiprocket pickup location: 'Nowhere' not found" in result.stdout
    assert "PASS  zoho token refresh" in result.stdout and "passed, 1 failed" in result.stdout


async def test_repair_commands_are_the_dashboard_actions(svc, base_env: dict[str, str]) -> None:  # noqa: ANN001
    import asyncio
    import json

    from sqlalchemy import select

    from app.alerts import raise_alert
    from app.models import OpsAction

    async with svc.sessionmaker.begin() as session:
        await raise_alert(session, kind="lost_in_transit", key="A1", message="AWB A1 lost", salesorder_id="77")

    def run(*args: str) -> tuple[int, dict[str, str]]:
        done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=os.environ.copy(),
                              capture_output=True, text=True, timeout=60)
        return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])

    first = await asyncio.to_thread(run, "resolve-alert", "1")
    second = await asyncio.to_thread(run, "resolve-alert", "1")
    unknown = await asyncio.to_thread(run, "retry", "404")
    assert first == (0, {"outcome": "done", "detail": "alert 1 (lost_in_transit) resolved"})
    assert second[0] == 0 and second[1]["outcome"] == "noop"
    assert unknown[0] == 1 and unknown[1]["outcome"] == "refused"
    async with svc.sessionmaker() as session:
        actors = set((await session.execute(select(OpsAction.actor))).scalars())
    assert len(actors) == 1 and actors.pop().startswith("cli:")


async def test_doctor_checks_shiplee_only_when_configured(settings: Settings, shiplee_settings: Settings,
                                                          clean: None, zoho_sim: ZohoSim, shiplee_sim) -> None:
    confirmed_order(zoho_sim)
    assert not {"shiplee login", "shiplee warehouse"} & set(by_name(await run_doctor(settings, PUBLIC)))

    good = by_name(await run_doctor(shiplee_settings, PUBLIC))
    assert good["shiplee login"].ok and good["shiplee warehouse"].ok
    assert "Delhi HQ" in good["shiplee warehouse"].detail

    wrong = by_name(await run_doctor(shiplee_settings.model_copy(update={"SHIPLEE_WAREHOUSE_ID": "7"}), PUBLIC))
    assert not wrong["shiplee warehouse"].ok
    # It suggests the valid ones.
    assert "'7' is not one of them" in wrong["shiplee warehouse"].detail
    assert "1 (Delhi HQ, 110001)" in wrong["shiplee warehouse"].detail and "2 (Mumbai Warehouse" in \
        wrong["shiplee warehouse"].detail

    refused = by_name(await run_doctor(shiplee_settings.model_copy(
        update={"SHIPLEE_PASSWORD": SecretStr("wrong")}), PUBLIC))
    assert not refused["shiplee login"].ok and "refused" in refused["shiplee login"].detail
    assert "wrong" not in refused["shiplee login"].detail  # never the secret itself
