"""The spine under failure: duplicate order ids, a killed worker, Redis or Postgres down, expiring
tokens, missing configuration, and secrets kept out of logs and answers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.jobs import sweep
from app.main import create_app
from app.models import InboxEvent, InboxState
from app.services import build_services
from sandbox.server import free_port
from sandbox.shiprocket_awb import request_pickup_in_panel
from tests.harness import OPS_TOKEN, WEBHOOK_SECRET, api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, count, deliver, in_state, inbox, shipment


@pytest.mark.parametrize("mode", ["existing_200", "error_422"])
async def test_repeated_order_id_reuses_the_existing_shiprocket_order(svc, shiprocket_sim, zoho_sim, mode):
    """A crash after Shiprocket created the order but before we committed: the retry meets the order
    id again, answered with the existing order (200) or a 'taken' error (422); either way one order."""
    so_id = confirmed_order(zoho_sim, number="SO-DUP-1")
    shiprocket_sim.duplicate_order_mode = mode
    # The order already exists at Shiprocket under our order id (the lost first attempt).
    from app.fulfilment.order_mapping import to_ship_order

    order = to_ship_order(zoho_sim.salesorder(so_id), cf_payment_method="cf_payment_method",
                          defaults=svc.parcel_defaults)
    existing = await svc.aggregator.create_order(order, "SO-DUP-1")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert sh.sr_order_id == existing.order_id and sh.sr_shipment_id == existing.shipment_id
    assert len(shiprocket_sim.orders) == 1
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb


async def test_worker_killed_between_order_and_awb_resumes_without_second_order(svc, shiprocket_sim, zoho_sim):
    """A real worker process is killed (SIGKILL) while waiting on AWB assignment; the sweeper hands
    the order to a new worker, which assigns the AWB on the order already created."""
    shiprocket_sim.faults.set_latency(60.0, path="/courier/assign/awb")
    so_id = confirmed_order(zoho_sim)
    env = {**os.environ, "SWEEP_INTERVAL_SECONDS": "3600"}  # the doomed worker must not sweep
    doomed = subprocess.Popen([sys.executable, "-m", "arq", "workers.main.WorkerSettings"], env=env,  # noqa: ASYNC220
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with api_client(create_app(svc.settings, svc)) as client:
            await deliver(client, zoho_sim, so_id)
            await eventually(in_state(svc, so_id, "order_created"), timeout=30)
            await eventually(lambda: _awb_call_started(shiprocket_sim), timeout=10)
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(timeout=10)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    shiprocket_sim.faults.path_latency.clear()
    assert (await shipment(svc, so_id)).state == "order_created"
    async with running_worker(svc):
        await asyncio.sleep(1.1)  # let the shipment go stale (SWEEP_STALE_SECONDS=1)
        result = await sweep(svc)
        assert result.shipments_enqueued == 1
        sh = await eventually(in_state(svc, so_id, "manifested"), timeout=20)
    assert len(shiprocket_sim.orders) == 1
    assert sum(1 for m, p in shiprocket_sim.calls if p == "/orders/create/adhoc") == 1
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb


async def _awb_call_started(sim) -> bool:
    return any(p == "/courier/assign/awb" for _, p in sim.calls)


async def test_redis_down_at_webhook_time_then_sweeper_completes(svc, settings, zoho_sim, shiprocket_sim):
    dead = settings.model_copy(update={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    dead_svc = build_services(dead, engine=svc.engine)
    so_id = confirmed_order(zoho_sim)
    try:
        async with api_client(create_app(dead, dead_svc)) as client:
            response = await deliver(client, zoho_sim, so_id)
            await asyncio.sleep(0.2)  # the background enqueue runs (and fails) after the answer
    finally:
        await dead_svc.queue.close()
        await dead_svc.http.aclose()
    assert response.status_code == 200 and response.json()["accepted"] is True
    [event] = await inbox(svc)
    assert event.state == InboxState.pending and event.enqueued_at is None
    assert shiprocket_sim.calls == []
    async with svc.sessionmaker.begin() as s:  # age the event past the sweeper's 5-second grace
        await s.execute(update(InboxEvent).values(received_at=datetime.now(UTC) - timedelta(seconds=30)))
    async with running_worker(svc):
        result = await sweep(svc)
        assert result.inbox_enqueued == 1
        await eventually(in_state(svc, so_id, "manifested"))
    assert [e.state for e in await inbox(svc)] == [InboxState.done]


async def test_sweeper_enqueues_despite_a_kept_job_result(svc, zoho_sim):
    """arq refuses a repeated _job_id while the old result is kept; the sweeper still gets the work done."""
    so_id = confirmed_order(zoho_sim)
    pool = await svc.queue.pool()
    async with running_worker(svc):
        job = await pool.enqueue_job("process_inbox_event", 1, _job_id="inbox:1")  # runs before the row exists
        assert await job.result(timeout=10) == "missing"
        assert await pool.enqueue_job("process_inbox_event", 1, _job_id="inbox:1") is None  # arq refuses
        async with svc.sessionmaker.begin() as s:
            s.add(InboxEvent(source="zoho_salesorder", dedupe_key="k1", body=zoho_sim.webhook_body(so_id),
                             content_type="application/json", subject=so_id,
                             received_at=datetime.now(UTC) - timedelta(seconds=30)))
        assert (await sweep(svc)).inbox_enqueued == 1
        await eventually(in_state(svc, so_id, "manifested"))


async def test_postgres_down_gives_503(settings, zoho_sim):
    down = settings.model_copy(update={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nope"})
    down_svc = build_services(down)
    so_id = confirmed_order(zoho_sim)
    try:
        async with api_client(create_app(down, down_svc)) as client:
            response = await deliver(client, zoho_sim, so_id)
            ready = await client.get("/readyz")
    finally:
        await down_svc.close()
    assert response.status_code == 503 and "retry" in response.json()["detail"]
    assert ready.status_code == 503


async def test_zoho_token_is_fetched_once_for_concurrent_callers(svc, zoho_sim):
    so_ids = [confirmed_order(zoho_sim) for _ in range(3)]
    other = build_services(svc.settings, engine=svc.engine)  # a second "process"
    try:
        await asyncio.gather(*(c.zoho.get_salesorder(i) for i in so_ids for c in (svc, other)))
        assert zoho_sim.token_requests == 1
        zoho_sim.expire_tokens()
        await asyncio.gather(svc.zoho.get_salesorder(so_ids[0]), other.zoho.get_salesorder(so_ids[1]))
        assert zoho_sim.token_requests == 2  # refreshed once after the 401, shared by both
    finally:
        await other.http.aclose()


async def test_shiprocket_429_and_html_5xx_are_retried(svc, shiprocket_sim, zoho_sim):
    shiprocket_sim.faults.rate_limit("/courier/serviceability/", retry_after=0, times=1)
    shiprocket_sim.faults.server_error("/orders/create/adhoc", status=502, times=2)
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        await eventually(in_state(svc, so_id, "manifested"))
    assert sum(1 for m, p in shiprocket_sim.calls if p == "/orders/create/adhoc") == 3
    assert len(shiprocket_sim.orders) == 1


async def test_html_5xx_error_carries_upstream_text(svc, shiprocket_sim):
    from app.integrations.http import RetryableUpstreamError

    shiprocket_sim.faults.server_error("/courier/track/awbs", status=502, times=10)
    with pytest.raises(RetryableUpstreamError) as exc:
        await svc.aggregator.track(["123"])
    assert exc.value.status == 502 and "502 Bad Gateway" in str(exc.value)
    assert "<html>" not in str(exc.value)


async def test_zoho_error_inside_200_is_an_error(svc, zoho_sim):
    from app.integrations.http import PermanentUpstreamError

    so_id = confirmed_order(zoho_sim)
    zoho_sim.error_in_200(f"/inventory/v1/salesorders/{so_id}", code=1002, message="Sales order does not exist.")
    with pytest.raises(PermanentUpstreamError, match="does not exist"):
        await svc.zoho.get_salesorder(so_id)


async def test_secrets_never_reach_logs_or_answers(svc, shiprocket_sim, zoho_sim, caplog):
    from app.logging import RedactSecrets

    caplog.set_level(logging.DEBUG)
    secrets = [svc.settings.SHIPROCKET_PASSWORD.get_secret_value(), svc.settings.ZOHO_CLIENT_SECRET.get_secret_value(),
               svc.settings.ZOHO_REFRESH_TOKEN.get_secret_value(), WEBHOOK_SECRET, OPS_TOKEN]
    shiprocket_sim.fail_awb_assignments(10, mode="http_400")  # every courier fails: the failure paths log too
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        ok = await deliver(client, zoho_sim, so_id)
        bad = await deliver(client, zoho_sim, so_id, secret="wrongSecret12345")
        await eventually(in_state(svc, so_id, "awb_failed"))
    text = caplog.text + ok.text + bad.text + repr(svc.settings)
    for secret in secrets:
        assert secret not in text
    # and the formatter's processor scrubs a secret someone logs by mistake (tests/ops/test_logging.py
    # covers arguments, tracebacks and fields through the real handler)
    event = RedactSecrets(secrets)(None, "info", {"event": f"token={secrets[0]}", "extra": {"k": secrets[1]}})
    assert secrets[0] not in str(event) and secrets[1] not in str(event)


def test_processes_refuse_to_start_naming_every_missing_setting(tmp_path):
    ours = ("SHIPROCKET_", "ZOHO_", "DATABASE_", "REDIS_", "OPS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    worker = subprocess.run([sys.executable, "-c", "import workers.main"], env=env, cwd=os.getcwd(),
                            capture_output=True, text=True, timeout=60)
    api = subprocess.run([sys.executable, "-m", "app.cli", "api"], env=env, cwd=os.getcwd(),
                         capture_output=True, text=True, timeout=60)
    for result in (worker, api):
        assert result.returncode == 2
        for name in ("DATABASE_URL", "REDIS_URL", "SHIPROCKET_EMAIL", "SHIPROCKET_PASSWORD", "ZOHO_CLIENT_ID",
                     "ZOHO_REFRESH_TOKEN", "ZOHO_WEBHOOK_SECRET", "OPS_TOKEN", "SHIPROCKET_PICKUP_LOCATION"):
            assert name in result.stderr


async def test_inbox_counts_unchanged_by_refused_requests(svc, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client:
        for _ in range(3):
            await deliver(client, zoho_sim, "x", body=b"{}", secret="bad-secret-000000")
    assert await count(svc, InboxEvent) == 0


async def test_refused_credentials_alert_once_and_the_order_waits(svc, shiprocket_sim, zoho_sim):
    """A wrong Shiprocket password is not the order's fault: no Serviceability Failed, no AWB attempt
    spent; one credentials alert; and the order completes once the credentials work."""
    from pydantic import SecretStr

    from app.fulfilment.service import fulfil
    from app.integrations.http import UpstreamAuthError

    bad = build_services(svc.settings.model_copy(update={"SHIPROCKET_PASSWORD": SecretStr("wrong-password")}),
                         engine=svc.engine)
    so_id = confirmed_order(zoho_sim)
    try:
        async with api_client(create_app(bad.settings, bad)) as client:
            await deliver(client, zoho_sim, so_id)
        [event] = await inbox(svc)
        from app.jobs import process_inbox_event

        for _ in range(2):
            with pytest.raises(UpstreamAuthError, match="Invalid email and password"):
                await process_inbox_event(bad, event.id)
    finally:
        await bad.http.aclose()
    sh = await shipment(svc, so_id)
    assert sh.state == "received" and "login refused" in sh.last_error
    [alert] = await alerts(svc, "credentials_refused")
    assert "shiprocket" in alert.message and "wrong-password" not in alert.message
    assert await fulfil(svc, so_id) == "manifested"  # the right credentials: it goes through


async def test_late_write_back_does_not_overwrite_a_newer_tracking_label(svc, shiprocket_sim, zoho_sim):
    """Zoho fails the AWB write-back; the parcel is picked up meanwhile; the retried write-back writes
    the AWB but leaves tracking's 'Picked Up' in place."""
    from app.fulfilment.service import fulfil

    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client:
        await deliver(client, zoho_sim, so_id)
    await (await svc.queue.pool()).flushdb()  # this test drives the jobs itself
    [event] = await inbox(svc)
    zoho_sim.faults.server_error(f"/inventory/v1/salesorders/{so_id}", status=503, times=10)
    from app.integrations.http import RetryableUpstreamError
    from app.jobs import process_inbox_event

    with pytest.raises(RetryableUpstreamError):
        await process_inbox_event(svc, event.id)
    sh = await shipment(svc, so_id)
    assert sh.state == "awb_assigned"
    zoho_sim.faults.reset()
    request_pickup_in_panel(shiprocket_sim, sh.awb)  # the seller requested it in Shiprocket's panel meanwhile
    body = shiprocket_sim.advance(sh.awb, 42)  # PICKED UP
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        token = svc.settings.SHIPROCKET_WEBHOOK_TOKEN.get_secret_value()
        r = await client.post("/webhooks/tracking", json=body, headers={"x-api-key": token})
        assert r.status_code == 200
        await eventually(lambda: _zoho_label(zoho_sim, so_id, "Picked Up"))
    # The AWB still goes to Zoho; pickup, label and manifest are moot once the courier has the parcel.
    assert await fulfil(svc, so_id) == "synced"
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == sh.awb
    assert zoho_sim.custom_field(so_id, "cf_shipment_status") == "Picked Up"


async def _zoho_label(zoho_sim, so_id, value) -> bool:
    return zoho_sim.custom_field(so_id, "cf_shipment_status") == value
