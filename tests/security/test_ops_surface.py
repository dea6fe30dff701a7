"""The ops surface to someone without the token: every route the app serves under /ops (enumerated from
the app, so a new one is covered without touching this file) refuses no, wrong and forged credentials;
credentials are compared in constant time; stored webhook content is escaped wherever it is shown."""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from app.main import create_app
from app.services import Services
from tests.harness import OPS_TOKEN
from tests.ops.helpers import ops_client
from tests.webhooks.test_ingest import KEYED, signed, so_body, tracking_body

# Reachable without a token by design: the login form, logging out, the login page itself (GET /ops
# shows only the form until logged in), the probes and the metrics a scraper reads.
PUBLIC = {("GET", "/ops"), ("POST", "/ops/login"), ("POST", "/ops/logout"), ("GET", "/healthz"),
          ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/docs"), ("GET", "/openapi.json")}
SAMPLE = {"salesorder_id": "4600000000000000001", "awb": "190410000001", "remittance_id": "CRF0001",
          "action": "retry", "event_id": "1", "alert_id": "1", "return_id": "1"}
XSS = "<script>alert(1)</script>"


def ops_routes() -> list[tuple[str, str]]:
    found = []
    # FastAPI >= 0.16x nests included routers; iter_route_contexts flattens them with their full paths.
    for route in iter_route_contexts(create_app().router.routes):
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if (method, route.path) not in PUBLIC:
                path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE.get(m.group(1), "1"), route.path)
                found.append((method, path))
    return sorted(set(found))


ROUTES = ops_routes()
FORGED = {
    "none": {},
    "wrong bearer": {"Authorization": "Bearer ops-token-xy"},
    "token plus a byte": {"Authorization": f"Bearer {OPS_TOKEN}x"},
    "wrong scheme": {"Authorization": f"Basic {OPS_TOKEN}"},
    "empty bearer": {"Authorization": "Bearer "},
    "forged cookie": {"Cookie": "sb_ops_session=eyJzaWQiOiJ4In0.forged.sig"},
    "token as cookie": {"Cookie": f"sb_ops_session={OPS_TOKEN}"},
}


def test_every_ops_route_is_enumerated() -> None:
    assert len(ROUTES) >= 15 and ("POST", "/ops/act") in ROUTES
    assert ("POST", "/ops/shipments/4600000000000000001/cancel") in ROUTES


@pytest.mark.parametrize("credentials", sorted(FORGED))
async def test_every_ops_route_refuses_missing_and_wrong_credentials(svc: Services, credentials: str) -> None:
    async with ops_client(svc) as client:
        for method, path in ROUTES:
            body: dict[str, Any] = {"data": {"action": "retry", "salesorder_id": "1"}} if path == "/ops/act" \
                else {"json": {}}
            answer = await client.request(method, path, headers=FORGED[credentials], **body)
            assert answer.status_code == 401, (method, path, answer.status_code, answer.text[:200])
            assert OPS_TOKEN not in answer.text
        assert "sb_ops_session" not in str(client.cookies)  # nothing handed a session on the way


async def test_credentials_are_compared_in_constant_time(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every credential check goes through hmac.compare_digest (a `==` would leak the token's prefix
    through timing); counted by wrapping it, so a check done any other way fails here."""
    seen: list[bytes] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append(a if isinstance(a, bytes) else str(a).encode())
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    async with ops_client(svc) as client:
        checks = [
            client.get("/ops/summary", headers={"Authorization": "Bearer probe-1"}),
            client.post("/ops/login", data={"token": "probe-2"}),
            client.post("/webhooks/tracking", content=b"{}", headers={"x-api-key": "probe-3"}),
            client.post("/webhooks/cod-remittance", content=b"{}", headers={"x-api-key": "probe-4"}),
            client.post("/webhooks/zoho/salesorders", content=b"{}",
                        headers={"X-Zoho-Webhook-Signature": "ab" * 32}),
        ]
        for check in checks:
            assert (await check).status_code == 401
    for probe in (b"probe-1", b"probe-2", b"probe-3", b"probe-4", b"ab" * 32):
        assert probe in seen, probe


async def test_stored_webhook_content_is_escaped_on_the_dashboard(svc: Services) -> None:
    so_id = "4600000000000000001"
    async with ops_client(svc) as client:
        hostile = [
            ("/webhooks/zoho/salesorders", so_body(status=XSS, salesorder_number=XSS, notes=XSS)),
            ("/webhooks/zoho/salesorders", so_body(salesorder_id=XSS)),
            ("/webhooks/tracking", tracking_body(current_status=XSS, awb=XSS)),
        ]
        for path, body in hostile:
            raw = json.dumps(body).encode()
            answer = await client.post(path, content=raw, headers=signed(raw) if "zoho" in path else KEYED)
            assert answer.status_code == 200
        assert (await client.post("/ops/login", data={"token": OPS_TOKEN})).status_code == 303
        pages = [await client.get("/ops"), await client.get(f"/ops/orders/{so_id}", headers={"Accept": "text/html"}),
                 await client.get(f"/ops?msg={XSS}")]
        shown = 0
        for page in pages:
            assert XSS not in page.text and "<script>" not in page.text.lower(), page.text[-800:]
            shown += page.text.count("&lt;script&gt;")
        assert shown >= 2  # the hostile text was rendered (escaped), not merely absent
        assert "script-src" not in pages[0].headers["content-security-policy"]  # default-src 'self' governs
