"""The dashboard's login, cookie and CSRF rules, and Prometheus metrics after a real flow."""

from __future__ import annotations

from sqlalchemy import select

from app.models import OpsAction
from app.services import Services
from sandbox.zoho import ZohoSim
from tests.harness import OPS_TOKEN, eventually, running_worker
from tests.ops.helpers import BEARER, login, ops_client
from tests.spine_helpers import confirmed_order, deliver, in_state


async def test_login_sets_a_signed_http_only_cookie_and_forms_need_csrf(svc: Services, zoho_sim: ZohoSim,
                                                                        shiprocket_sim) -> None:  # noqa: ANN001
    shiprocket_sim.unserviceable_pincodes.add("744101")
    so_id = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    async with ops_client(svc) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        await eventually(in_state(svc, so_id, "serviceability_failed"))
        wrong = await client.post("/ops/login", data={"token": "guess"})
        assert wrong.status_code == 401 and "not the ops token" in wrong.text
        answer = await client.post("/ops/login", data={"token": OPS_TOKEN})
        cookie = answer.headers["set-cookie"]
        assert answer.status_code == 303 and OPS_TOKEN not in cookie
        for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/ops"):
            assert flag.lower() in cookie.lower(), cookie
        csrf = await login(client)
        page = await client.get("/ops")
        assert "Serviceability Failed" in page.text and f'href="/ops/orders/{so_id}"' in page.text
        assert page.headers["cache-control"] == "no-store"
        # The cookie alone is not enough for an action: the form's CSRF token must match the session.
        forged = await client.post("/ops/act", data={"action": "retry", "salesorder_id": so_id, "csrf": "0" * 64})
        assert forged.status_code == 403
        json_forged = await client.post(f"/ops/orders/{so_id}/retry", json={})
        assert json_forged.status_code == 403
        shiprocket_sim.unserviceable_pincodes.discard("744101")
        pressed = await client.post("/ops/act", data={"action": "retry", "salesorder_id": so_id, "csrf": csrf,
                                                      "back": "https://evil.example/"})
        assert pressed.status_code == 303 and pressed.headers["location"].startswith("/ops?msg=Retry")
        await eventually(in_state(svc, so_id, "manifested"))
        order_page = await client.get(f"/ops/orders/{so_id}", headers={"Accept": "text/html"})
        assert order_page.status_code == 200 and "written_back" in order_page.text and "dashboard" in order_page.text
        async with svc.sessionmaker() as session:
            actor = await session.scalar(select(OpsAction.actor))
        assert actor == "dashboard"
        await client.post("/ops/logout")
        assert 'action="/ops/login"' in (await client.get("/ops")).text


async def test_metrics_expose_counters_after_a_flow(svc: Services, zoho_sim: ZohoSim) -> None:
    so_id = confirmed_order(zoho_sim)
    async with ops_client(svc) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        await deliver(client, zoho_sim, so_id)  # the duplicate is counted as such
        await eventually(in_state(svc, so_id, "manifested"))
        await client.get("/ops/summary", headers=BEARER)
        body = (await client.get("/metrics")).text
    for line in ('shipbridge_webhooks_total{outcome="pending",source="zoho_salesorder"}',
                 'shipbridge_webhooks_total{outcome="duplicate",source="zoho_salesorder"}',
                 'shipbridge_jobs_total{name="process_inbox_event",outcome="ok"}',
                 'shipbridge_job_duration_seconds_count{name="process_inbox_event"}',
                 'shipbridge_upstream_calls_total{endpoint="/v1/external/courier/assign/awb",status="200",'
                 'upstream="shiprocket"}',
                 'shipbridge_upstream_call_duration_seconds_count{endpoint="/v1/external/courier/assign/awb",'
                 'upstream="shiprocket"}',
                 'shipbridge_shipments{state="manifested"} 1.0', "shipbridge_queue_depth ",
                 "shipbridge_zoho_budget_used ", "shipbridge_zoho_budget_limit 5000.0"):
        assert line in body, line


async def test_docs_are_served_without_a_cdn_and_declare_the_bearer_scheme(svc: Services) -> None:
    async with ops_client(svc) as client:
        docs = (await client.get("/docs")).text
        assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
        assert (await client.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200
        assert (await client.get("/docs-assets/swagger-ui.css")).status_code == 200
        schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"HTTPBearer": []} in schema["paths"]["/ops/summary"]["get"]["security"]
