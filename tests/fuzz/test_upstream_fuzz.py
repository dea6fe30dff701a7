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
from app.services import Services
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim
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


@pytest.mark.parametrize("reply", [{"code": 0, "message": "success"}, {"code": 0, "salesorder": "<html>"},
                                   "<html><body>Zoho is under maintenance</body></html>"],
                         ids=["no-object", "object-is-text", "html-200"])
async def test_a_job_meeting_a_mangled_reply_parks_the_event_with_an_alert(svc: Services, zoho_sim: ZohoSim,
                                                                           reply: Any) -> None:
    """End to end through the inbox job: the order must be read from Zoho (the webhook carries only its
    id), Zoho's reply is unusable every time; the event is parked `failed` with an alert after one run and
    the job is not retried (a TypeError used to send it round the sweeper until MAX_ATTEMPTS)."""
    from app.jobs import process_inbox_event, sweep
    from app.main import create_app
    from tests.harness import api_client
    from tests.spine_helpers import alerts, confirmed_order, deliver, inbox

    so_id = confirmed_order(zoho_sim)
    zoho_sim.faults.inject(f"/inventory/v1/salesorders/{so_id}", method="GET", body=reply, times=1000)
    async with api_client(create_app(svc.settings, svc)) as client:
        body = json.dumps({"salesorder": {"salesorder_id": so_id, "status": "confirmed"}}).encode()
        assert (await deliver(client, zoho_sim, so_id, body=body)).status_code == 200
    [event] = await inbox(svc)
    assert await process_inbox_event(svc, event.id) == "failed"
    reads = [c for c in zoho_sim.calls if c == ("GET", f"/inventory/v1/salesorders/{so_id}")]
    assert len(reads) == 1  # a 200 is not retried, and nothing retries a permanent refusal
    [alert] = await alerts(svc, "inbox_failed")
    assert "zoho" in alert.message.lower()
    await sweep(svc)
    assert await process_inbox_event(svc, event.id) == "failed"  # parked: a re-run does nothing
    assert len([c for c in zoho_sim.calls if c[1].endswith(so_id)]) == 1
