"""Schema-driven fuzzing of every FastAPI route in the app's own OpenAPI (schemathesis generates the cases,
valid ones and ones that break the schema; we send them with the ops token through the real app and
Postgres). No case may end in a 5xx or an exception; every refusal is a 4xx with a JSON `detail`. The
operations are read from the schema, so a new endpoint is fuzzed without touching this file."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from app.main import create_app
from app.services import Services
from tests.harness import OPS_TOKEN, api_client

pytestmark = pytest.mark.fuzz
SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())
OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in SCHEMA.get_all_operations())}
BASE = "http://shipbridge.test"
EXAMPLES = max(10, int(os.environ.get("FUZZ_EXAMPLES", "60")) // 3)
# Routes that answer plain text by design (Prometheus' format).
TEXT_ROUTES = {"GET /metrics"}
PROBES = {"GET /readyz"}  # 503 while no worker heartbeats: by design


@pytest.fixture
async def client(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(create_app(svc.settings, svc)) as c:
        yield c


def test_the_schema_lists_the_ops_surface() -> None:
    # Guards the enumeration itself: if the schema stopped listing routes this suite would pass vacuously.
    assert {"GET /ops/summary", "GET /ops/orders/{salesorder_id}", "POST /ops/shipments/{salesorder_id}/cancel",
            "GET /ops/tracking/{awb}", "POST /ops/remittances/{remittance_id}/retry"} <= set(OPERATIONS)


# Schema-breaking cases need something to break: a path, query or body parameter.
CASES = [(label, mode) for label, op in sorted(OPERATIONS.items()) for mode in GenerationMode
         if mode == GenerationMode.POSITIVE or len(op.path_parameters) + len(op.query) + len(op.body)]


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
@settings(max_examples=EXAMPLES)
@given(data=st.data())
async def test_no_input_makes_a_route_fail(svc: Services, client: httpx.AsyncClient, label: str,
                                           mode: GenerationMode, data: st.DataObject) -> None:
    case = data.draw(OPERATIONS[label].as_strategy(generation_mode=mode), label="case")
    kwargs = case.as_transport_kwargs(base_url=BASE, headers={"Authorization": f"Bearer {OPS_TOKEN}"})
    kwargs.pop("cookies", None)
    kwargs.pop("allow_redirects", None)
    response = await client.request(**kwargs)
    if label in PROBES and response.status_code == 503:
        assert response.json()["failing"]  # "not ready" is a readiness probe's answer, naming the reason
        return
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    if response.status_code >= 400 and label not in TEXT_ROUTES:
        refusal = response.json()  # a 4xx explains itself: FastAPI's `detail`, or an action's `outcome`
        assert isinstance(refusal, dict) and ("detail" in refusal or "outcome" in refusal), \
            (case.as_curl_command(), response.text[:500])
