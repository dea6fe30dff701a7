"""Upstream answers fuzzed through the simulators' fault switch: each client call the jobs make gets a
mangled reply (missing fields, wrong types, HTML where JSON was expected, an empty body) and must either
read it or raise a typed UpstreamError, never a KeyError/TypeError/AttributeError from deep inside a
mapping. The jobs' own bounds (FULFIL_MAX_ATTEMPTS, the inbox's attempts) are proven in tests/faults."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.integrations.http import UpstreamError
from app.sandbox.shiprocket import ShiprocketSim
from app.sandbox.zoho import ZohoSim
from app.services import Services
from tests.fuzz.bodies import JSON_VALUES

pytestmark = pytest.mark.fuzz
EXAMPLES = max(10, int(os.environ.get("FUZZ_EXAMPLES", "60")) // 3)
SO_ID = "4600000000000000001"

Call = Callable[[Services], Awaitable[Any]]
# (simulator, path pattern, wrapper key the client looks for, the call)
CALLS: dict[str, tuple[str, str, str | None, Call]] = {
    "zoho.get_salesorder": ("zoho", "/inventory/v1/salesorders/*", "salesorder",
                            lambda s: s.zoho.get_salesorder(SO_ID)),
    "zoho.get_item": ("zoho", "/inventory/v1/items/*", "item", lambda s: s.zoho.get_item("460000000000001")),
    "zoho.update_salesorder": ("zoho", "/inventory/v1/salesorders/*", "salesorder",
                               lambda s: s.zoho.update_salesorder_custom_fields(SO_ID, {"cf_awb_number": "1"})),
    "shiprocket.assign_awb": ("shiprocket", "/courier/assign/awb", "response",
                              lambda s: s.aggregator.assign_awb("11", None)),
    "shiprocket.shipment_awb": ("shiprocket", "/orders/show/*", "data",
                                lambda s: s.aggregator.shipment_awb("11", "12")),
    "shiprocket.order_show": ("shiprocket", "/orders/show/*", "data", lambda s: s.aggregator.order_show("11")),
    "shiprocket.find_order": ("shiprocket", "/orders", "data", lambda s: s.aggregator.find_order("SO-1")),
    "shiprocket.track": ("shiprocket", "/courier/track/awbs", None,
                         lambda s: s.aggregator.track(["190410000001"])),
    "shiprocket.request_pickup": ("shiprocket", "/courier/generate/pickup", "response",
                                  lambda s: s.aggregator.request_pickup("12")),
    "shiprocket.generate_label": ("shiprocket", "/courier/generate/label", None,
                                  lambda s: s.aggregator.generate_label("12")),
    "shiprocket.generate_manifest": ("shiprocket", "/manifests/generate", None,
                                     lambda s: s.aggregator.generate_manifest("12", "11")),
}
HTML = st.sampled_from(["<html><body><h1>Maintenance</h1></body></html>", "<!doctype html><p>login</p>", "",
                        "OK", "{\"truncated\": ", "null"])


@st.composite
def mangled(draw: st.DrawFn, wrapper: str | None, zoho: bool) -> tuple[int, Any]:
    status = draw(st.sampled_from([200, 200, 200, 201, 400, 404, 422]))
    inner = draw(JSON_VALUES)
    shaped: dict[str, Any] = {wrapper: inner} if wrapper else {"data": inner}
    if zoho:
        shaped["code"] = draw(st.sampled_from([0, "0", 57, 1002, None]))
    body = draw(st.one_of(st.just(shaped), st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4),
                          HTML, st.lists(JSON_VALUES, max_size=3)))
    return status, body


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
async def test_a_mangled_answer_is_read_or_a_typed_error(svc: Services, zoho_sim: ZohoSim,
                                                         shiprocket_sim: ShiprocketSim, name: str,
                                                         data: st.DataObject) -> None:
    sim_name, path, wrapper, call = CALLS[name]
    sim = zoho_sim if sim_name == "zoho" else shiprocket_sim
    status, body = data.draw(mangled(wrapper, sim_name == "zoho"), label="reply")
    sim.faults.reset()
    sim.faults.inject(path, status=status, body=body, times=10)
    try:
        await call(svc)
    except UpstreamError:
        pass  # typed: the job records it, alerts, retries within its cap or fails the step
    finally:
        sim.faults.reset()
    json.dumps(body)  # the case itself stays printable when Hypothesis reports it
