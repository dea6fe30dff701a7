"""The JSON endpoints answer with pydantic response models, so OpenAPI documents what they return (the
schemathesis run in tests/fuzz checks the answers against it)."""

from __future__ import annotations

import pytest

from app.main import create_app

DOCUMENTED = {
    ("get", "/ops/summary"): "Summary",
    ("get", "/ops/orders/{salesorder_id}"): "OrderStory",
    ("post", "/ops/orders/{salesorder_id}/{action}"): "ActionOutcome",
    ("post", "/ops/events/{event_id}/replay"): "ActionOutcome",
    ("post", "/ops/alerts/{alert_id}/resolve"): "ActionOutcome",
    ("get", "/ops/actions"): "RecentActions",
    ("get", "/ops/remittances"): "RemittanceList",
    ("get", "/ops/remittances/exceptions"): "RemittanceExceptions",
    ("get", "/ops/remittances/{remittance_id}"): "RemittanceDetail",
    ("post", "/ops/remittances/{remittance_id}/retry"): "RemittanceRetry",
    ("get", "/ops/tracking/{awb}"): "TrackingHistory",
    ("post", "/ops/returns"): "ReturnView",
    ("get", "/ops/returns/{return_id}"): "ReturnView",
    ("post", "/ops/returns/{return_id}/retry"): "ReturnView",
    ("post", "/ops/shipments/{salesorder_id}/cancel"): "CancelAnswer",
    ("get", "/ops/reports/rto-risk"): "RtoRiskReport",
    ("get", "/readyz"): "Readiness",
}


@pytest.mark.parametrize(("method", "path"), sorted(DOCUMENTED))
def test_json_endpoint_documents_its_response(settings, method: str, path: str) -> None:
    spec = create_app(settings).openapi()
    responses = spec["paths"][path][method]["responses"]
    ok = responses.get("200") or responses["201"]
    ref = ok["content"]["application/json"]["schema"]["$ref"]
    assert ref == f"#/components/schemas/{DOCUMENTED[(method, path)]}"


def test_summary_schema_names_its_parts(settings) -> None:
    schemas = create_app(settings).openapi()["components"]["schemas"]
    assert {"attention", "queue", "zoho_budget", "today"} <= set(schemas["Summary"]["properties"])
    assert "events" in schemas["TrackingHistory"]["properties"]


def test_readyz_documents_its_503(settings) -> None:
    responses = create_app(settings).openapi()["paths"]["/readyz"]["get"]["responses"]
    assert responses["503"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Readiness"
