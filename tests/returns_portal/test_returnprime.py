"""Return Prime end to end: webhook (keyed, never trusted) -> re-read -> mapped to the Zoho sales order ->
reverse pickup booked (or Return Prime's own AWB tracked) -> restocked and credited once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.models import InboxEvent
from app.returns_portal.service import poll_returnprime
from app.tracking.models import CustomerReturn
from tests.harness import eventually
from tests.returns_portal.helpers import (
    approved_request,
    book_outside,
    delivered,
    inbox_count,
    post_rp,
    returns_of,
    rp_lines,
    sim_returns,
    sku_of,
)
from tests.spine_helpers import alerts
from tests.tracking.helpers import bodies, inbox_idle, post, stack, stock


async def _events(svc: Any) -> list[InboxEvent]:
    async with svc.sessionmaker() as s:
        return list((await s.execute(select(InboxEvent).where(InboxEvent.source == "returnprime")
                                     .order_by(InboxEvent.id))).scalars())


async def _idle(svc: Any) -> bool:
    return await inbox_idle(svc)


async def _back_home(svc: Any, so_id: str) -> CustomerReturn | None:
    rets = await returns_of(svc, so_id)
    ok = len(rets) == 1 and rets[0].tracking_status == "delivered" and rets[0].tracking_settled
    return rets[0] if ok and await inbox_idle(svc) else None


async def test_webhook_without_the_key_is_refused_and_nothing_stored(svc, shiprocket_sim, zoho_sim,
                                                                     returnprime_sim):
    body = {"request": {"id": "6a7a004a55258d08a43604f2"}}
    async with stack(svc) as client:
        assert (await post_rp(client, body, key=None)).status_code == 401
        assert (await post_rp(client, body, key="wrong-key")).status_code == 401
        assert (await post_rp(client, body, key="")).status_code == 401
        assert await inbox_count(svc) == 0
        answer = await post_rp(client, {"request": {"id": "RET777"}})  # keyed but no request id: kept, invalid
        assert answer.status_code == 200 and answer.json()["state"] == "invalid"
    assert [e.state for e in await _events(svc)] == ["invalid"]
    assert not returnprime_sim.calls  # nothing to re-read


async def test_forged_body_is_ignored_in_favour_of_the_request_re_read(svc, shiprocket_sim, zoho_sim,
                                                                       returnprime_sim):
    async with stack(svc) as client:
        so_id, sh = await delivered(svc, client, shiprocket_sim, zoho_sim, "#1003", qty=2)
        request = returnprime_sim.create_request("#1003", [(sku_of(sh), 1, 499)])  # not approved
        forged = returnprime_sim.webhook_body(request["id"])
        forged["request"]["approved"] = {"status": True, "comment": "", "created_at": "2026-01-01T00:00:00Z"}
        forged["request"]["line_items"][0]["quantity"] = 2
        assert (await post_rp(client, forged)).status_code == 200
        assert (await post_rp(client, {"request": {**forged["request"], "id": "0" * 24}})).status_code == 200
        await eventually(lambda: _idle(svc))
        unapproved, unknown = await _events(svc)
        assert unapproved.state == "done" and "not approved" in (unapproved.reason or "")
        assert unknown.state == "failed" and "not found" in (unknown.reason or "").lower()
        assert await returns_of(svc, so_id) == []
        # Approved on Return Prime for one unit: the forged quantity of two never counts.
        returnprime_sim.set_flag(request["id"], "approved")
        assert (await post_rp(client, {**forged, "topic": "request/updated"})).status_code == 200
        [ret] = await eventually(lambda: _booked(svc, so_id))
    assert [line["quantity"] for line in ret.lines] == ["1"]


async def _booked(svc: Any, so_id: str) -> list[CustomerReturn] | None:
    rets = await returns_of(svc, so_id)
    return rets if rets and all(r.awb for r in rets) and await inbox_idle(svc) else None


async def test_approved_return_booked_tracked_and_restocked_once_when_every_webhook_comes_thrice(
        svc, shiprocket_sim, zoho_sim, returnprime_sim):
    async with stack(svc) as client:
        so_id, sh = await delivered(svc, client, shiprocket_sim, zoho_sim, "#1001", terms="Prepaid", qty=2,
                                    paid=True)
        before, booked_before = stock(zoho_sim, sh), len(sim_returns(shiprocket_sim))
        request_id = approved_request(returnprime_sim, "#1001", sku_of(sh), qty=1)
        for topic in ("request/created", "request/approved"):
            for attempt in range(3):  # distinct bodies: three inbox events handled side by side
                body = {**returnprime_sim.webhook_body(request_id, topic), "attempt": attempt}
                assert (await post_rp(client, body)).status_code == 200
        [ret] = await eventually(lambda: _booked(svc, so_id))
        assert ret.state == "awb_assigned" and ret.channel_order_id.startswith(sh.salesorder_number + "-RET")
        for body in bodies(shiprocket_sim, ret.awb or "", [3, 42, 18, 7]):
            for _ in range(3):
                assert (await post(client, body)).status_code == 200
        returnprime_sim.set_flag(request_id, "received")
        for attempt in range(3):
            await post_rp(client, {**returnprime_sim.webhook_body(request_id, "request/received"), "n": attempt})
        ret = await eventually(lambda: _back_home(svc, so_id))
    assert len(sim_returns(shiprocket_sim)) == booked_before + 1  # one reverse pickup
    assert stock(zoho_sim, sh) == before + 1
    [salesreturn] = zoho_sim.salesreturns.values()
    assert salesreturn["line_items"][0]["quantity"] == 1
    assert len(zoho_sim.creditnotes) == 1
    [line] = await rp_lines(svc, request_id)
    assert line.state == "linked" and line.customer_return_id == ret.id
    assert {e.state for e in await _events(svc)} == {"done"}


async def test_request_with_its_own_reverse_awb_is_tracked_without_a_second_booking(
        svc, shiprocket_sim, zoho_sim, returnprime_sim):
    async with stack(svc) as client:
        so_id, sh = await delivered(svc, client, shiprocket_sim, zoho_sim, "#1002", qty=2)
        awb = await book_outside(svc, sh, "RP-PICKUP-1002")
        before, booked_before = stock(zoho_sim, sh), len(sim_returns(shiprocket_sim))
        request_id = approved_request(returnprime_sim, "#1002", sku_of(sh), qty=1)
        returnprime_sim.set_reverse_awb(request_id, awb)
        for attempt in range(3):
            await post_rp(client, {**returnprime_sim.webhook_body(request_id), "attempt": attempt})
        [ret] = await eventually(lambda: _booked(svc, so_id))
        assert ret.awb == awb and ret.sr_order_id is None and ret.courier_name == "Delhivery Reverse"
        for body in bodies(shiprocket_sim, awb, [3, 42, 18, 7]):
            await post(client, body)
        await eventually(lambda: _back_home(svc, so_id))
        assert await poll_returnprime(svc) == 0  # the poller finds it done as well
    assert len(sim_returns(shiprocket_sim)) == booked_before  # nothing booked by Shipbridge
    assert stock(zoho_sim, sh) == before + 1 and len(zoho_sim.salesreturns) == 1


async def test_unmappable_requests_are_kept_and_alerted_never_guessed(svc, shiprocket_sim, zoho_sim,
                                                                      returnprime_sim):
    async with stack(svc) as client:
        so_id, sh = await delivered(svc, client, shiprocket_sim, zoho_sim, "#1004", qty=2)
        unknown_sku = approved_request(returnprime_sim, "#1004", "NOT-OUR-SKU")
        unknown_order = approved_request(returnprime_sim, "#9999", sku_of(sh))
        for attempt in range(3):
            for request_id in (unknown_sku, unknown_order):
                await post_rp(client, {**returnprime_sim.webhook_body(request_id), "attempt": attempt})
        await eventually(lambda: _idle(svc))
    assert await returns_of(svc, so_id) == []
    found = await alerts(svc, "returnprime_unmappable")
    assert len(found) == 2  # once per request, however often it arrives
    assert any("NOT-OUR-SKU" in a.message for a in found) and any("#9999" in a.message for a in found)
    [line] = await rp_lines(svc, unknown_sku)
    assert line.state == "unmappable" and line.customer_return_id is None


async def test_poller_takes_on_what_webhooks_missed_once(svc, shiprocket_sim, zoho_sim, returnprime_sim):
    async with stack(svc) as client:
        so_id, sh = await delivered(svc, client, shiprocket_sim, zoho_sim, "#1005", qty=2)
        returnprime_sim.create_request("#1005", [(sku_of(sh), 1, 499)])  # not approved: left alone
        approved_request(returnprime_sim, "#1005", sku_of(sh), qty=1)
        assert await poll_returnprime(svc) == 1
        assert await poll_returnprime(svc) == 0
    [ret] = await returns_of(svc, so_id)
    assert ret.awb and len(sim_returns(shiprocket_sim)) == 1


async def test_reverse_awb_shiprocket_never_tracks_is_alerted(svc, shiprocket_sim, zoho_sim, returnprime_sim):
    async with stack(svc) as client:
        so_id, sh = await delivered(svc, client, shiprocket_sim, zoho_sim, "#1006", qty=2)
        request_id = approved_request(returnprime_sim, "#1006", sku_of(sh), qty=1)
        returnprime_sim.set_reverse_awb(request_id, "XB99887766", courier="Xpressbees direct")
        await post_rp(client, returnprime_sim.webhook_body(request_id))
        [ret] = await eventually(lambda: _booked(svc, so_id))
        assert ret.awb == "XB99887766" and not sim_returns(shiprocket_sim)
        await poll_returnprime(svc)
        assert await alerts(svc, "returnprime_awb_untracked") == []  # too early to tell
        await poll_returnprime(svc, now=datetime.now(UTC) + timedelta(days=4))
        await poll_returnprime(svc, now=datetime.now(UTC) + timedelta(days=5))
    [alert] = await alerts(svc, "returnprime_awb_untracked")
    assert "XB99887766" in alert.message and "Xpressbees direct" in alert.message
