"""GoKwik's RTO risk check before booking a COD order: High risk waits for ops (release, paid online,
cancel), everything else ships at once, and a GoKwik that is down, slow or erring never holds an order."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.fulfilment.rto_models import UNAVAILABLE, RtoPrediction
from app.main import create_app
from tests.harness import OPS_TOKEN, api_client, eventually, running_worker
from tests.spine_helpers import alerts, confirmed_order, deliver, in_state, order_idle, shipment

BEARER = {"Authorization": f"Bearer {OPS_TOKEN}"}
PHONE = "9876543210"  # confirmed_order's customer


async def predictions(svc) -> list[RtoPrediction]:
    async with svc.sessionmaker() as session:
        return list((await session.scalars(select(RtoPrediction).order_by(RtoPrediction.id))).all())


async def _held(svc, shiprocket_sim, zoho_sim, gokwik, client) -> str:
    gokwik.set_risk(PHONE, "High Risk", "Address or customer seems fake")
    so_id = confirmed_order(zoho_sim, terms="COD")
    assert (await deliver(client, zoho_sim, so_id)).status_code == 200
    sh = await eventually(in_state(svc, so_id, "on_hold"))
    await eventually(lambda: _label_is(zoho_sim, so_id, "On Hold (RTO risk)"))
    assert sh.hold_reason == "RTO risk: GoKwik High risk: Address or customer seems fake"
    assert shiprocket_sim.orders == {}  # never booked, not even by the overlapped creation
    return so_id


async def test_high_risk_cod_order_is_held_then_released_and_shipped(svc, shiprocket_sim, zoho_sim, gokwik):
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await _held(svc, shiprocket_sim, zoho_sim, gokwik, client)
        [alert] = await alerts(svc, "rto_risk_hold")
        assert PHONE in alert.message and "seems fake" in alert.message
        [p] = await predictions(svc)
        assert (p.category, p.held, p.salesorder_id) == ("High", True, so_id) and p.request_id
        [sent] = gokwik.requests
        assert sent["order"]["shipping_address"]["postcode"] == "560001" and sent["mid"] == gokwik.mid
        story = (await client.get(f"/ops/orders/{so_id}", headers=BEARER)).json()
        assert {"release_cod", "ship_prepaid", "cancel"} <= set(story["available_actions"])
        summary = (await client.get("/ops/summary", headers=BEARER)).json()
        assert "rto_risk_hold" in {a["rule"] for a in summary["attention"]}
        assert summary["today"]["rto_risk_held"] == 1

        first = (await client.post(f"/ops/orders/{so_id}/release_cod", headers=BEARER)).json()
        assert first["outcome"] == "done", first
        sh = await eventually(in_state(svc, so_id, "manifested"))
        again = (await client.post(f"/ops/orders/{so_id}/release_cod", headers=BEARER)).json()
    assert again["outcome"] == "noop"
    assert sh.payment_method == "COD" and sh.hold_reason is None
    [order] = shiprocket_sim.orders.values()
    assert order["payment_method"] == "COD"
    assert gokwik.calls == 1  # the released order is not asked about again


async def test_paid_online_ships_prepaid_with_nothing_to_collect(svc, shiprocket_sim, zoho_sim, gokwik):
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await _held(svc, shiprocket_sim, zoho_sim, gokwik, client)
        answer = (await client.post(f"/ops/orders/{so_id}/ship_prepaid", headers=BEARER)).json()
        assert answer["outcome"] == "done", answer
        sh = await eventually(in_state(svc, so_id, "manifested"))
    assert sh.payment_method == "Prepaid" and sh.order["payment_method"] == "Prepaid"
    [order] = shiprocket_sim.orders.values()
    assert order["payment_method"] == "Prepaid"
    assert zoho_sim.custom_field(so_id, "cf_payment_method") == "Prepaid"


async def test_cancel_drops_a_held_order_unbooked(svc, shiprocket_sim, zoho_sim, gokwik):
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await _held(svc, shiprocket_sim, zoho_sim, gokwik, client)
        answer = (await client.post(f"/ops/orders/{so_id}/cancel", headers=BEARER,
                                    json={"comments": "customer refused on the call"})).json()
        assert answer["outcome"] == "done", answer
        again = (await client.post(f"/ops/orders/{so_id}/release_cod", headers=BEARER)).json()
    assert (await shipment(svc, so_id)).state == "cancelled"
    assert again["outcome"] == "noop" and shiprocket_sim.orders == {}


async def test_low_risk_ships_at_once_and_prepaid_is_not_asked(svc, shiprocket_sim, zoho_sim, gokwik):
    gokwik.set_risk("560002", "Medium Risk", "New customer")
    cod = confirmed_order(zoho_sim, terms="COD", pincode="560002")
    prepaid = confirmed_order(zoho_sim, terms="Prepaid")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        for so_id in (cod, prepaid):
            await deliver(client, zoho_sim, so_id)
        for so_id in (cod, prepaid):
            await eventually(in_state(svc, so_id, "manifested"))
    [p] = await predictions(svc)
    assert (p.salesorder_id, p.category, p.reason, p.held) == (cod, "Medium", "New customer", False)


async def test_gokwik_down_does_not_delay_shipping(svc, shiprocket_sim, zoho_sim, gokwik):
    svc.settings.GOKWIK_ALERT_AFTER_FAILURES = 2
    gokwik.slow(5.0)  # slower than the 1 s timeout: two tries, then ship
    first = confirmed_order(zoho_sim, terms="COD")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        started = time.monotonic()
        await deliver(client, zoho_sim, first)
        await eventually(in_state(svc, first, "manifested"))
        elapsed = time.monotonic() - started
        gokwik.slow(0.0)
        gokwik.down()
        second = confirmed_order(zoho_sim, terms="COD")
        await deliver(client, zoho_sim, second)
        await eventually(in_state(svc, second, "manifested"))
        summary = (await client.get("/ops/summary", headers=BEARER)).json()
    assert elapsed < 8, elapsed  # at most two 1 s timeouts on top of the usual booking
    assert [p.category for p in await predictions(svc)] == [UNAVAILABLE, UNAVAILABLE]
    assert len(shiprocket_sim.orders) == 2
    assert summary["today"]["rto_check_unavailable"] == 2
    [alert] = await alerts(svc, "gokwik_unavailable")  # two failures in a row: one alert, not one per order
    assert "shipped unchecked" in alert.message


async def test_an_error_inside_http_200_ships_and_is_counted(svc, shiprocket_sim, zoho_sim, gokwik):
    gokwik.error_in_200("Unable to get order details")
    so_id = confirmed_order(zoho_sim, terms="COD")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        await eventually(in_state(svc, so_id, "manifested"))
    [p] = await predictions(svc)
    assert p.category == UNAVAILABLE and "Unable to get order details" in p.reason
    assert await alerts(svc, "gokwik_unavailable") == []  # one failure is only counted


async def test_unconfigured_gokwik_is_never_called(svc, shiprocket_sim, zoho_sim, gokwik):
    svc.settings.GOKWIK_MID = ""
    so_id = confirmed_order(zoho_sim, terms="COD")
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        await eventually(in_state(svc, so_id, "manifested"))
    assert gokwik.calls == 0 and await predictions(svc) == []


async def _label_is(zoho_sim, so_id: str, label: str) -> bool:
    return zoho_sim.custom_field(so_id, "cf_shipment_status") == label


async def test_the_dashboard_offers_the_three_answers_and_its_release_ships(svc, shiprocket_sim, zoho_sim, gokwik):
    from tests.ops.helpers import login, ops_client

    gokwik.set_risk(PHONE, "High Risk", "Address too short")
    so_id = confirmed_order(zoho_sim, terms="COD")
    async with ops_client(svc) as client, running_worker(svc):
        await deliver(client, zoho_sim, so_id)
        await eventually(in_state(svc, so_id, "on_hold"))
        csrf = await login(client)
        page = (await client.get("/ops")).text
        assert "COD order held for RTO risk" in page and "Address too short" in page
        for label in ("Release (ship COD)", "Paid online (ship prepaid)", "Cancel shipment"):
            assert label in page, label
        pressed = await client.post("/ops/act", data={"action": "release_cod", "salesorder_id": so_id,
                                                      "csrf": csrf})
        assert pressed.status_code == 303
        await eventually(in_state(svc, so_id, "manifested"))


async def test_cancel_while_a_job_holds_the_order_asks_to_press_again(svc, shiprocket_sim, zoho_sim, gokwik,
                                                                     monkeypatch):
    import app.fulfilment.cancel as cancel
    from app.locks import advisory_lock, order_lock_name

    monkeypatch.setattr(cancel, "LOCK_WAIT_SECONDS", 0.2)
    async with api_client(create_app(svc.settings, svc)) as client, running_worker(svc):
        so_id = await _held(svc, shiprocket_sim, zoho_sim, gokwik, client)
        await eventually(order_idle(svc, so_id))  # the job that held it lets go of the order first
        async with advisory_lock(svc.engine, order_lock_name(so_id)) as held:
            assert held
            busy = await client.post(f"/ops/orders/{so_id}/cancel", headers=BEARER)
        assert busy.status_code == 503 and busy.json()["outcome"] == "failed"
        assert (await shipment(svc, so_id)).state == "on_hold"
        done = (await client.post(f"/ops/orders/{so_id}/cancel", headers=BEARER)).json()
    assert done["outcome"] == "done"
