"""The order story and the dashboard say which aggregator booked an order, and where the booking hopped
before it landed there."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from app.services import Services, build_services
from app.settings import Settings
from sandbox.shiplee import ShipleeSim
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim
from tests.harness import eventually, running_worker
from tests.ops.helpers import BEARER, login, ops_client, set_shipment
from tests.spine_helpers import confirmed_order, deliver, in_state


@pytest.fixture
async def both(shiplee_settings: Settings, clean: None) -> AsyncIterator[Services]:
    svc = build_services(shiplee_settings.model_copy(update={"AGGREGATORS": "shiprocket,shiplee"}))
    yield svc
    await svc.close()


def row_of(page: str, salesorder_id: str) -> str:
    found = re.search(rf'<tr class="attention">\s*<td data-label="Order"><a href="/ops/orders/{salesorder_id}">'
                      r'.*?</tr>', page, re.S)
    assert found, page
    return found.group(0)


async def test_story_and_dashboard_show_the_aggregator_and_the_hops(both: Services, shiprocket_sim: ShiprocketSim,
                                                                    shiplee_sim: ShipleeSim, zoho_sim: ZohoSim) -> None:
    svc = both
    shiprocket_sim.fail_awb_assignments(10, mode="http_400")  # both Shiprocket couriers fail: Shiplee books
    hopped = confirmed_order(zoho_sim)
    async with ops_client(svc) as client, running_worker(svc):
        await deliver(client, zoho_sim, hopped)
        sh = await eventually(in_state(svc, hopped, "manifested"))
        shiprocket_sim.unserviceable_pincodes.add("744101")
        shiplee_sim.unserviceable_pincodes.add("744101")
        unbooked = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
        await deliver(client, zoho_sim, unbooked)
        await eventually(in_state(svc, unbooked, "serviceability_failed"))

        story = (await client.get(f"/ops/orders/{hopped}", headers=BEARER)).json()["shipment"]
        assert story["aggregator"] == "shiplee" and story["sr_order_id"] == sh.sr_order_id
        hops = story["booking_hops"]
        assert [h["aggregator"] for h in hops] == ["shiprocket", "shiprocket"]
        assert [h["courier_id"] for h in hops] == [h["courier_id"] for h in sh.booking_hops]
        assert all("attempt(s) failed" in h["reason"] for h in hops)
        none_yet = (await client.get(f"/ops/orders/{unbooked}", headers=BEARER)).json()["shipment"]
        assert none_yet["aggregator"] is None and none_yet["booking_hops"] == []

        await login(client)
        page = (await client.get(f"/ops/orders/{hopped}", headers={"Accept": "text/html"})).text
        assert re.search(r"<dt>Booked with</dt><dd>Shiplee</dd>", page)
        assert "<dt>Shiplee order / shipment</dt>" in page and "<h2>Booking hops</h2>" in page
        assert page.count('<td data-label="Aggregator">Shiprocket</td>') == 2
        plain = (await client.get(f"/ops/orders/{unbooked}", headers={"Accept": "text/html"})).text
        assert "<dd>Not booked yet</dd>" in plain and "Booking hops" not in plain

        # The dashboard's order list: a booked order in trouble names its aggregator, an unbooked one "-".
        await set_shipment(svc, hopped, state="writeback_failed")
        dashboard = (await client.get("/ops")).text
        assert "<th>Aggregator</th>" in dashboard
        assert '<td data-label="Aggregator">Shiplee</td>' in row_of(dashboard, hopped)
        assert '<td data-label="Aggregator">-</td>' in row_of(dashboard, unbooked)
        summary = (await client.get("/ops/summary", headers=BEARER)).json()
        by_order = {a["salesorder_id"]: a["aggregator"] for a in summary["attention"] if a["salesorder_id"]}
        assert by_order[hopped] == "shiplee" and by_order[unbooked] is None


async def test_a_malformed_hop_in_the_row_does_not_break_the_story(both: Services, zoho_sim: ZohoSim,
                                                                   shiprocket_sim: ShiprocketSim) -> None:
    so_id = confirmed_order(zoho_sim)
    async with ops_client(both) as client, running_worker(both):
        await deliver(client, zoho_sim, so_id)
        await eventually(in_state(both, so_id, "manifested"))
        await set_shipment(both, so_id, booking_hops=["junk", {"aggregator": "shiprocket", "courier_id": 10,
                                                               "reason": None}])
        story = await client.get(f"/ops/orders/{so_id}", headers=BEARER)
    assert story.status_code == 200
    assert story.json()["shipment"]["booking_hops"] == [{"aggregator": "shiprocket", "courier_id": "10",
                                                         "reason": ""}]
    assert story.json()["shipment"]["aggregator"] == "shiprocket"


async def test_advice_names_the_booking_aggregator_and_its_panel_page(both: Services, shiplee_sim: ShipleeSim,
                                                                       shiprocket_sim: ShiprocketSim,
                                                                       zoho_sim: ZohoSim) -> None:
    # What to do depends on who booked: a Shiplee order's advice never sends a person to Shiprocket, and
    # a Shiprocket order's names the page of Shiprocket's panel the references give.
    svc = both
    on_shiprocket = confirmed_order(zoho_sim)
    shiprocket_sim.unserviceable_pincodes.add("744101")
    on_shiplee = confirmed_order(zoho_sim, pincode="744101", city="Port Blair")
    async with ops_client(svc) as client, running_worker(svc):
        for so_id in (on_shiprocket, on_shiplee):
            await deliver(client, zoho_sim, so_id)
        sr = await eventually(in_state(svc, on_shiprocket, "manifested"))
        sl = await eventually(in_state(svc, on_shiplee, "manifested", "awb_assigned"))
        assert (sr.aggregator, sl.aggregator) == ("shiprocket", "shiplee")
        await set_shipment(svc, on_shiprocket, state="pickup_failed")
        await set_shipment(svc, on_shiplee, state="awb_failed")
        summary = (await client.get("/ops/summary", headers=BEARER)).json()
    todo = {a["salesorder_id"]: a["todo"] for a in summary["attention"] if a["salesorder_id"]}
    assert "request it in Shiprocket's panel (Orders > Ready To Ship)" in todo[on_shiprocket]
    assert todo[on_shiplee].startswith("Shiplee booked the order but gave no AWB") and "Shiprocket" not in todo[
        on_shiplee]
