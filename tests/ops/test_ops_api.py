"""The ops JSON surface: the token is required, path ids are validated to 4xx, the summary lists what
needs attention with the action to take, and every repair action is idempotent and recorded."""

from __future__ import annotations

from sqlalchemy import select, text

from app.inbox import Source
from app.models import Alert, InboxEvent, InboxState, OpsAction
from app.services import Services
from sandbox.zoho import ZohoSim
from tests.harness import eventually, running_worker
from tests.ops.helpers import BEARER, ops_client, set_shipment
from tests.spine_helpers import confirmed_order, deliver, in_state, shipment

PROTECTED = [("GET", "/ops/summary"), ("GET", "/ops/orders/123"), ("GET", "/ops/actions"),
             ("POST", "/ops/orders/123/retry"), ("POST", "/ops/events/1/replay"), ("POST", "/ops/alerts/1/resolve")]


async def test_ops_endpoints_refuse_without_the_token(svc: Services) -> None:
    async with ops_client(svc) as client:
        for method, path in PROTECTED:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic b3BzOng="}):
                answer = await client.request(method, path, headers=headers)
                assert answer.status_code == 401, (method, path, headers, answer.status_code)
        page = await client.get("/ops")
        assert page.status_code == 200 and 'action="/ops/login"' in page.text and "attention" not in page.text
        forged = await client.post("/ops/act", data={"action": "retry", "salesorder_id": "123"})
        assert forged.status_code == 401
        assert (await client.get("/ops/summary", headers=BEARER)).status_code == 200


async def test_bad_path_ids_and_quantities_are_4xx_not_500(svc: Services) -> None:
    cases = [("GET", "/ops/orders/12%0034"), ("GET", "/ops/orders/abc"), ("GET", "/ops/tracking/AB%00C"),
             ("GET", "/ops/returns/9223372036854775808"), ("POST", "/ops/returns/99999999999999999999/retry"),
             ("GET", "/ops/remittances/R%00"), ("POST", "/ops/remittances/R%00/retry"),
             ("POST", "/ops/events/9223372036854775808/replay"), ("POST", "/ops/alerts/0/resolve"),
             ("GET", "/ops/returns/1?x=%00")]
    async with ops_client(svc) as client:
        for method, path in cases:
            answer = await client.request(method, path, headers=BEARER)
            assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)
        for body in ('{"salesorder_id": "1", "lines": [{"line_item_id": "2", "quantity": 1e400}]}',
                     '{"salesorder_id": "1\\u0000", "lines": null}'):
            answer = await client.post("/ops/returns", content=body,
                                       headers={**BEARER, "Content-Type": "application/json"})
            assert answer.status_code == 422, (body, answer.status_code, answer.text)


async def _failed_inbox_event(svc: Services, so_id: str) -> int:
    async with svc.sessionmaker.begin() as session:
        event = InboxEvent(source=Source.zoho_salesorder, dedupe_key=f"broken-{so_id}", body=b"{}",
                           content_type="application/json", state=InboxState.invalid, reason="no salesorder in body",
                           subject=so_id)
        session.add(event)
        await session.flush()
        return int(event.id)


async def test_summary_lists_attention_and_actions_are_idempotent(svc: Services, zoho_sim: ZohoSim,
                                                                  shiprocket_sim) -> None:  # noqa: ANN001
    shiprocket_sim.unserviceable_pincodes.add("744101")
    bad = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    good = confirmed_order(zoho_sim)
    async with ops_client(svc) as client, running_worker(svc):
        for so_id in (bad, good):
            assert (await deliver(client, zoho_sim, so_id)).status_code == 200
        await eventually(in_state(svc, bad, "serviceability_failed"))
        synced = await eventually(in_state(svc, good, "manifested"))
        await set_shipment(svc, good, tracking_status="undelivered")
        shiprocket_sim.advance(synced.awb, 21)  # the courier's NDR, so Shiprocket accepts an NDR action
        event_id = await _failed_inbox_event(svc, good)

        summary = (await client.get("/ops/summary", headers=BEARER)).json()
        by_rule = {a["rule"]: a for a in summary["attention"]}
        assert by_rule["serviceability_failed"]["salesorder_id"] == bad
        assert by_rule["serviceability_failed"]["reason"] == "Serviceability Failed"
        assert by_rule["serviceability_failed"]["actions"] == ["retry"]
        assert by_rule["undelivered"]["awb"] == synced.awb
        assert by_rule["undelivered"]["actions"] == ["ndr_reattempt", "ndr_return"]
        assert by_rule["inbox_invalid"]["ref"] == f"event:{event_id}"
        assert summary["shipments_by_state"] == {"serviceability_failed": 1, "manifested": 1}
        assert summary["last_webhook"][Source.zoho_salesorder] is not None
        assert summary["today"]["orders_received"] == 2 and summary["today"]["awbs_assigned"] == 1
        assert summary["tokens"]["shiprocket"]["valid"] is True and "token" not in summary["tokens"]["shiprocket"]
        assert summary["queue"]["depth"] is not None and summary["zoho_budget"]["limit"] == 5000
        assert summary["upstreams"]["shiprocket"]["recent_calls"] > 0
        assert any(a["kind"] == "serviceability_failed" for a in summary["open_alerts"])

        # Retry after the cause is fixed: done, then a second press changes nothing.
        shiprocket_sim.unserviceable_pincodes.discard("744101")
        first = await client.post(f"/ops/orders/{bad}/retry", headers=BEARER)
        assert first.status_code == 200 and first.json()["outcome"] == "done", first.text
        await eventually(in_state(svc, bad, "manifested"))
        second = (await client.post(f"/ops/orders/{bad}/retry", headers=BEARER)).json()
        assert second["outcome"] == "noop"

        # NDR re-attempt through Shiprocket's NDR API, once.
        ndr = await client.post(f"/ops/orders/{good}/ndr_reattempt", headers=BEARER,
                                json={"comments": "Customer home after 6pm"})
        assert ndr.json()["outcome"] == "done", ndr.text
        again = (await client.post(f"/ops/orders/{good}/ndr_reattempt", headers=BEARER)).json()
        assert again["outcome"] == "noop"
        assert shiprocket_sim.ndr_actions == [{"awb": synced.awb, "action": "re-attempt",
                                               "comments": "Customer home after 6pm"}]

        # Replay the invalid event once; the second press is a no-op.
        assert (await client.post(f"/ops/events/{event_id}/replay", headers=BEARER)).json()["outcome"] == "done"
        assert (await client.post(f"/ops/events/{event_id}/replay", headers=BEARER)).json()["outcome"] == "noop"

        # Re-sync: reads tracking, rewrites the Zoho fields.
        resync = (await client.post(f"/ops/orders/{good}/resync", headers=BEARER)).json()
        assert resync["outcome"] == "done" and f"cf_awb_number={synced.awb}" in resync["detail"]
        assert (await shipment(svc, good)).tracking_status == "undelivered"  # noqa: PLR2004

        # Resolve an alert: written once, with who and when.
        async with svc.sessionmaker() as session:
            alert_id = (await session.scalars(select(Alert.id).where(Alert.kind == "serviceability_failed"))).one()
        assert (await client.post(f"/ops/alerts/{alert_id}/resolve", headers=BEARER)).json()["outcome"] == "done"
        assert (await client.post(f"/ops/alerts/{alert_id}/resolve", headers=BEARER)).json()["outcome"] == "noop"
        async with svc.sessionmaker() as session:
            alert = await session.get(Alert, alert_id)
            assert alert is not None and alert.resolved and alert.resolved_by == "api" and alert.resolved_at
            recorded = (await session.execute(select(OpsAction.action, OpsAction.outcome, OpsAction.target)
                                              .order_by(OpsAction.id))).all()
        assert [(a, o) for a, o, _ in recorded] == [
            ("retry", "done"), ("retry", "noop"), ("ndr_reattempt", "done"), ("ndr_reattempt", "noop"),
            ("replay", "done"), ("replay", "noop"), ("resync", "done"), ("resolve_alert", "done"),
            ("resolve_alert", "noop")]

        story = (await client.get(f"/ops/orders/{bad}", headers=BEARER)).json()
        assert story["shipment"]["state"] == "manifested"
        assert [s["step"] for s in story["steps"]][-1] == "manifested"
        assert "ops_retry" in [s["step"] for s in story["steps"]]
        assert [a["action"] for a in story["actions_taken"]] == ["retry", "retry"]
        assert (await client.get("/ops/orders/999", headers=BEARER)).status_code == 404


async def test_readiness_names_each_failing_part(svc: Services, settings) -> None:  # noqa: ANN001
    from app.ops.health import HEARTBEAT_KEY, write_heartbeat
    from app.services import build_services
    from sandbox.server import free_port

    async with ops_client(svc) as client:
        no_worker = await client.get("/readyz")
        assert no_worker.status_code == 503 and no_worker.json()["failing"] == ["worker"]
        await write_heartbeat(svc.queue)
        ok = await client.get("/readyz")
        assert ok.status_code == 200, ok.text
        pool = await svc.queue.pool()
        await pool.set(HEARTBEAT_KEY, "1000")  # 1970: a worker long dead
        stale = await client.get("/readyz")
        assert stale.status_code == 503 and stale.json()["failing"] == ["worker"] and "old" in stale.json()["worker"]
        await write_heartbeat(svc.queue)
        async with svc.sessionmaker.begin() as session:
            # Put back exactly what was there: a hard-coded head goes stale with the next migration.
            head = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            await session.execute(text("UPDATE alembic_version SET version_num = '0003'"))
        try:
            behind = await client.get("/readyz")
        finally:  # put back exactly what was there: later tests (and alembic) read it
            async with svc.sessionmaker.begin() as session:
                await session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        assert behind.status_code == 503 and behind.json()["failing"] == ["migrations"]
        assert "shipbridge migrate" in behind.json()["migrations"]
    dead = f"127.0.0.1:{free_port()}"
    for change, failing in (({"REDIS_URL": f"redis://{dead}/0"}, ["redis", "worker"]),
                            ({"DATABASE_URL": f"postgresql://postgres@{dead}/x"}, ["postgres", "migrations"])):
        down = settings.model_copy(update=change)
        down_svc = build_services(down)
        try:
            async with ops_client(down_svc) as client:
                answer = await client.get("/readyz")
        finally:
            await down_svc.close()
        assert answer.status_code == 503 and answer.json()["failing"] == failing, answer.text
