"""Cancelling a shipment when its sales order is voided in Zoho (or goes back to draft), and later from
the ops dashboard. Idempotent and under the order's advisory lock, so it never interleaves with a
fulfilment step: an order not yet booked is never booked; one booked but not picked up is cancelled on
Shiprocket and shows "Cancelled" on Zoho; one the courier already has cannot be cancelled (it will come
back as an RTO), so ops are told what to do instead."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.alerts import raise_alert
from app.fulfilment import repository
from app.fulfilment.service import fulfil
from app.fulfilment.state import PAST_PICKUP
from app.fulfilment.transition import transition
from app.integrations.http import PermanentUpstreamError, UpstreamAuthError
from app.integrations.shipping import display_name
from app.locks import LOCK_WAIT_SECONDS, OrderBusy, advisory_lock, order_lock_name
from app.models import Shipment, ShipmentLog, ShipmentState
from app.services import Services

PICKED_UP_ADVICE = ("{name} cannot cancel a parcel the courier already has. Ask {name} support "
                    "(or the courier) to return it to origin; it will come back as an RTO and be restocked "
                    "then. If the customer still wants it, re-confirm the order in Zoho instead.")


async def cancel_shipment(svc: Services, salesorder_id: str, *, reason: str, actor: str = "system",
                          zoho_void: bool = False) -> str:
    """Cancel what Shipbridge booked for a sales order. Returns "cancelled", "already_cancelled",
    "not_booked" (nothing was ever booked; now it never will be), "picked_up_alerted" (too late to
    cancel; ops alerted with what to do), "refused_alerted" (Shiprocket refused; ops alerted) or
    "no_shipment" (nothing known about this order). `zoho_void`: the sales order is void in Zoho, which
    then refuses edits, so "Cancelled" is not written (Zoho shows the order as Void itself)."""
    async with advisory_lock(svc.engine, order_lock_name(salesorder_id), wait=LOCK_WAIT_SECONDS) as held:
        if not held:
            raise OrderBusy(salesorder_id)  # a fulfilment step is running: the job is retried shortly
        outcome = await _cancel_locked(svc, salesorder_id, reason=reason, actor=actor, zoho_void=zoho_void)
    if outcome in ("cancelled", "already_cancelled"):
        await fulfil(svc, salesorder_id)  # writes "Cancelled" to Zoho if that is not done yet
    return outcome


async def _cancel_locked(svc: Services, salesorder_id: str, *, reason: str, actor: str, zoho_void: bool) -> str:
    async with svc.sessionmaker() as session:
        shipment = await repository.shipment_by_salesorder(session, salesorder_id)
    if shipment is None:
        return "no_shipment"
    if shipment.state == ShipmentState.cancelled:
        return "already_cancelled"
    who = f"{shipment.salesorder_number} (AWB {shipment.awb})" if shipment.awb else shipment.salesorder_number
    if shipment.tracking_status in PAST_PICKUP:
        await _too_late(svc, shipment, f"{actor}: {reason}; already {shipment.tracking_status}",
                        f"{who} was cancelled ({reason}) but is already "
                        f"{shipment.tracking_status.replace('_', ' ')}.")
        return "picked_up_alerted"
    order_id = shipment.sr_order_id
    client = svc.aggregator_for(shipment.aggregator)  # the one that booked it
    name = display_name(client.name)
    if order_id is None and shipment.state == ShipmentState.courier_chosen:
        # A create whose reply was lost may have made an order after all: find it by our own id.
        found = await client.find_order(shipment.channel_order_id)
        order_id = found.order_id if found is not None and not found.cancelled else None
    if order_id is not None:
        try:
            await client.cancel([order_id])
        except UpstreamAuthError:
            raise
        except PermanentUpstreamError as exc:
            await _too_late(svc, shipment, f"{actor}: {reason}; {name}: {exc.upstream_message}",
                            f"{who} was cancelled ({reason}) but {name} refused to cancel order "
                            f"{order_id}: {exc.upstream_message}.")
            return "refused_alerted"
    detail = (f"{actor}: {reason}; {name} order {order_id} cancelled" if order_id
              else f"{actor}: {reason}; nothing was booked, and now never will be")
    async with svc.sessionmaker.begin() as session:
        await transition(session, shipment, "cancelled", detail, state=ShipmentState.cancelled,
                         cancelled_at=datetime.now(UTC), sr_order_id=order_id, next_attempt_at=None,
                         last_error=None, **({"status_label": "Cancelled"} if zoho_void else {}))
    return "cancelled" if order_id else "not_booked"


async def _too_late(svc: Services, shipment: Shipment, detail: str, message: str) -> None:
    async with svc.sessionmaker.begin() as session:
        session.add(ShipmentLog(shipment_id=shipment.id, step="cancel_refused", detail=detail))
        await raise_alert(session, kind="cancel_refused", key=shipment.salesorder_id,
                          salesorder_id=shipment.salesorder_id,
                          message=f"{message} {PICKED_UP_ADVICE.format(name=display_name(shipment.aggregator))}")


async def void_before_booking(svc: Services, so: dict[str, Any], reason: str) -> bool:
    """A void for an order we hold no shipment for (it may still be queued, or arrive out of order):
    record a cancelled shipment so a later "confirmed" for it finds a row and is never booked. Returns
    False when a row appeared meanwhile (the caller cancels that one)."""
    now = datetime.now(UTC)
    number = str(so.get("salesorder_number") or so["salesorder_id"])
    async with svc.sessionmaker.begin() as session:
        shipment_id = await repository.insert_shipment(
            session, salesorder_id=str(so["salesorder_id"]), salesorder_number=number, channel_order_id=number,
            state=ShipmentState.cancelled, cancelled_at=now, order={}, payment_method="",
            declared_value=Decimal(0), weight_kg=Decimal(0), length_cm=Decimal(0), breadth_cm=Decimal(0),
            height_cm=Decimal(0))
        if shipment_id is None:
            return False
        session.add(ShipmentLog(shipment_id=shipment_id, step="cancelled",
                                detail=f"{reason} before any booking; a later confirmation will not ship it"))
    return True
