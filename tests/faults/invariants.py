"""The end state every fault test must reach: each confirmed order has exactly one live Shiprocket
booking and one AWB (written on its sales order), each tracking status and remittance line was applied
once, and nothing stored is left pending, unsettled or mid-flow without an alert."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select, text

from app.fulfilment.state import PAST_PICKUP
from app.jobs import sweep
from app.models import ACTIVE_STATES, Alert, InboxEvent, InboxState, Shipment
from app.remittance.models import TO_SETTLE_SQL, CodRemittanceLine
from app.services import Services
from sandbox.shiprocket import ShiprocketSim
from sandbox.zoho import ZohoSim


async def shipments_of(svc: Services, so_ids: list[str]) -> list[Shipment]:
    async with svc.sessionmaker() as s:
        rows = (await s.execute(select(Shipment).where(Shipment.salesorder_id.in_(so_ids)))).scalars()
        return sorted(rows, key=lambda sh: so_ids.index(sh.salesorder_id))


def shipped(sh: Shipment) -> bool:
    """Fulfilment is over: manifested, or its dispatch steps were moot because the courier has the parcel."""
    return sh.state == "manifested" or (sh.state == "synced" and sh.tracking_status in PAST_PICKUP)


async def assert_one_booking_each(svc: Services, sr: ShiprocketSim, zoho: ZohoSim, so_ids: list[str],
                                  state: str | None = None) -> list[Shipment]:
    found = await shipments_of(svc, so_ids)
    assert [sh.salesorder_id for sh in found] == so_ids, "an order has no shipment"
    done = (lambda sh: sh.state == state) if state else shipped
    assert all(done(sh) for sh in found), [(sh.salesorder_number, sh.state, sh.last_error) for sh in found]
    awbs = [sh.awb for sh in found]
    assert all(awbs) and len(set(awbs)) == len(awbs), "an AWB is missing or shared"
    live = Counter(o["channel_order_id"] for o in sr.orders.values() if not _cancelled(o))
    for sh in found:
        assert live[sh.channel_order_id] == 1, f"{sh.channel_order_id}: {live[sh.channel_order_id]} live bookings"
        assert str(sr.orders[_sr_key(sr, sh.sr_order_id)]["order_id"]) == sh.sr_order_id
        assert zoho.custom_field(sh.salesorder_id, "cf_awb_number") == sh.awb
    return found


def _cancelled(order: dict) -> bool:
    return str(order.get("status", "")).upper().startswith("CANCEL")


def _sr_key(sr: ShiprocketSim, sr_order_id: str | None) -> int:
    return next(k for k, o in sr.orders.items() if str(o["order_id"]) == sr_order_id)


async def stuck(svc: Services) -> dict[str, int]:
    """Work stored but not finished, by kind; each must be zero or carry an alert."""
    async with svc.sessionmaker() as s:
        async def n(q) -> int:  # noqa: ANN001
            return int(await s.scalar(q) or 0)

        return {
            "inbox_pending": await n(select(func.count()).select_from(InboxEvent)
                                     .where(InboxEvent.state == InboxState.pending)),
            "shipments_mid_flow": await n(select(func.count()).select_from(Shipment)
                                          .where(Shipment.state.in_([s.value for s in ACTIVE_STATES]))),
            "tracking_unsettled": await n(select(func.count()).select_from(Shipment)
                                          .where(Shipment.tracking_settled.is_(False))),
            "remittance_lines_unsettled": await n(select(func.count()).select_from(CodRemittanceLine)
                                                  .where(text(TO_SETTLE_SQL))),
        }


async def quiet(svc: Services) -> bool:
    return not any((await stuck(svc)).values())


async def alert_kinds(svc: Services) -> Counter[str]:
    async with svc.sessionmaker() as s:
        return Counter((await s.execute(select(Alert.kind))).scalars())


async def swept_and_quiet(svc: Services) -> bool:
    """What the sweeper cron does once a minute, here at every poll, until nothing is left."""
    await sweep(svc)
    return await quiet(svc)
