"""Remittance work left half-done is resumed by the sweeper (whatever the poller's switch), a busy
settle job neither waits nor multiplies, and the failure paths of settling one line: a refused
write-back, a prepaid AWB, a sales order Zoho will not show."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from arq.jobs import Job, JobStatus

from app.jobs import sweep
from app.locks import advisory_lock
from app.main import create_app
from app.remittance import repository as repo
from app.remittance import service
from app.remittance.payloads import parse_remittance
from tests.harness import api_client, eventually
from tests.remittance.helpers import (
    OPS,
    books_posts,
    invoice_of,
    lines,
    payments_for,
    post_remittance,
    remit,
    settled,
    shipped_orders,
    worker,
)
from tests.spine_helpers import alerts


async def _stored_without_a_job(svc, body: dict) -> str:
    """The batch and its lines as the handler stores them, with no settle job queued (Redis was flushed,
    the worker died before the hand-off...)."""
    async with svc.sessionmaker.begin() as s:
        rid, _ = await repo.store_remittance(s, parse_remittance(json.dumps(body).encode()), "webhook")
    return rid


def _later() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=30)  # past SWEEP_STALE_SECONDS for what was just written


async def test_sweeper_settles_a_remittance_whose_settle_job_was_lost(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):  # no cron: no poller either
        shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 2)
        rid = await _stored_without_a_job(svc, remit(shiprocket_sim, shipments, ["20.00", "20.00"]))
        fresh = await sweep(svc)  # just stored: not stale yet, a job may still be on its way
        result = await sweep(svc, _later())
        found = await eventually(settled(svc, 2))
        await eventually(lambda: _all_written_back(svc))
    assert "remittance" not in fresh.resumed and result.resumed["remittance"] == 1
    assert all(ln.state == "paid" for ln in found)
    for sh in shipments:
        assert len(payments_for(zoho_sim, rid, sh.awb)) == 1
        assert zoho_sim.custom_field(sh.salesorder_id, "cf_cod_remittance_id") == rid


async def test_sweeper_finishes_a_line_paid_but_not_written_back(svc, shiprocket_sim, zoho_sim, monkeypatch):
    real = service._write_back
    killed: list[str] = []

    async def killed_once(*args, **kwargs):
        if not killed:  # the payment is committed; the worker dies before writing the sales order
            killed.append(args[2].awb)
            raise RuntimeError("worker killed before the write-back")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "_write_back", killed_once)
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        [sh] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1)
        body = remit(shiprocket_sim, [sh], ["20.00"])
        await post_remittance(client, body)
        [line] = await eventually(settled(svc, 1))
        await eventually(lambda: _job_failed(svc))
        assert (line.state, line.so_updated, line.so_error) == ("paid", False, None)
        posts = books_posts(zoho_sim)
        result = await sweep(svc, _later())
        await eventually(lambda: _all_written_back(svc))
    assert killed == [sh.awb] and result.resumed["remittance"] == 1
    assert zoho_sim.custom_field(sh.salesorder_id, "cf_cod_remittance_id") == body["remittance_id"]
    assert books_posts(zoho_sim) == posts == 1  # finishing the write-back pays nothing again


async def _job_failed(svc) -> bool:
    pool = await svc.queue.pool()
    results = await pool.all_job_results()
    return any(r.function == service.SETTLE_JOB and not r.success for r in results)


async def _all_written_back(svc) -> bool:
    return all(ln.so_updated for ln in await lines(svc))


async def test_a_busy_settle_job_queues_one_deferred_retry_however_often_it_runs(svc, shiprocket_sim, zoho_sim,
                                                                                 monkeypatch):
    monkeypatch.setattr(service, "BUSY_RETRY_SECONDS", 0.5)
    async with api_client(create_app(svc.settings, svc)) as client:
        async with worker(svc):
            shipments = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1)
        rid = await _stored_without_a_job(svc, remit(shiprocket_sim, shipments))
        async with advisory_lock(svc.engine, service.settle_lock_name(rid)) as held:  # another run settles it
            assert held
            answers = [await service.settle_remittance(svc, rid) for _ in range(3)]
            queued = [j for j in await (await svc.queue.pool()).queued_jobs() if j.function == service.SETTLE_JOB]
        async with worker(svc):
            [line] = await eventually(settled(svc, 1))
            busy_retry = Job(f"remittance-settle:{rid}:busy", await svc.queue.pool())
            await eventually(lambda: _is(busy_retry, JobStatus.complete))
    assert answers == ["busy"] * 3
    assert [j.job_id for j in queued] == [f"remittance-settle:{rid}:busy"]
    assert line.state == "paid" and (await busy_retry.result_info()).result == "1 paid, 0 flagged"


async def _is(job: Job, status: JobStatus) -> bool:
    return await job.status() == status


async def test_a_refused_write_back_is_kept_on_the_line_and_not_resumed(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        [sh] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1)
        zoho_sim.faults.inject(f"/inventory/v1/salesorders/{sh.salesorder_id}", method="PUT", status=400,
                               body={"code": 2, "message": "Invalid value passed for custom_fields"})
        await post_remittance(client, remit(shiprocket_sim, [sh], ["20.00"]))
        [line] = await eventually(settled(svc, 1))
        line = (await eventually(lambda: _with_so_error(svc)))[0]
        result = await sweep(svc, _later())
        exceptions = (await client.get("/ops/remittances/exceptions", headers=OPS)).json()
    assert line.state == "paid" and not line.so_updated  # the payment stands
    assert "cf_cod_remittance_id" in line.so_error and "Invalid value passed for custom_fields" in line.so_error
    assert "remittance" not in result.resumed  # a person fixes the field; nothing retries it blindly
    [listed] = exceptions["lines"]
    assert listed["awb"] == sh.awb and listed["so_error"] == line.so_error and listed["paid_at"]
    assert invoice_of(zoho_sim, sh.salesorder_id)["balance"] == 0


async def _with_so_error(svc) -> list:
    return [ln for ln in await lines(svc) if ln.so_error]


async def test_a_prepaid_awb_and_an_unreadable_sales_order_are_flagged_not_paid(svc, shiprocket_sim, zoho_sim):
    async with api_client(create_app(svc.settings, svc)) as client, worker(svc):
        [cod] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1)
        [prepaid] = await shipped_orders(svc, client, zoho_sim, shiprocket_sim, 1, terms="Due on Receipt",
                                         prefix="SO-PP")
        zoho_sim.faults.inject(f"/inventory/v1/salesorders/{cod.salesorder_id}", method="GET", status=404,
                               body={"code": 1002, "message": "Sales order does not exist."})
        body = remit(shiprocket_sim, [cod], ["20.00"])
        body["orders"].append({"awb": prepaid.awb, "order_id": prepaid.salesorder_number, "cod_amount": "500.00",
                               "deducted_charges": "0.00"})
        body["bank_transfer_amount"] = f"{float(body['bank_transfer_amount']) + 500:.2f}"
        await post_remittance(client, body)
        found = await eventually(settled(svc, 2))
        [alert] = await eventually(lambda: alerts(svc, "remittance_exceptions"))
        detail = (await client.get(f"/ops/remittances/{body['remittance_id']}", headers=OPS)).json()
    by_awb = {ln.awb: ln for ln in found}
    assert (by_awb[prepaid.awb].state, by_awb[prepaid.awb].problem) == ("flagged", "not_cod")
    assert "is Prepaid" in by_awb[prepaid.awb].detail and by_awb[prepaid.awb].salesorder_id == prepaid.salesorder_id
    assert (by_awb[cod.awb].state, by_awb[cod.awb].problem) == ("flagged", "books_refused")
    assert "Sales order does not exist." in by_awb[cod.awb].detail
    assert zoho_sim.find_payments() == [] and books_posts(zoho_sim) == 0
    assert "2 line(s)" in alert.message and "books_refused, not_cod" in alert.message
    assert detail["flagged"] == 2 and all(o["paid_at"] is None for o in detail["orders"])
    assert await alerts(svc, "remittance_mismatch") == []  # the totals add up; the lines are the problem
