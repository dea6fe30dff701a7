"""Where a booking goes when it cannot go on where it is: the next eligible courier or aggregator
(cancelling the abandoned booking first, so an order never has two live bookings), or, when the seller
must act first, parked out of the job's loop. See docs/shipping.md#routing-and-fallback."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import raise_alert
from app.fulfilment import routing
from app.fulfilment.order_mapping import ship_order_from_json
from app.fulfilment.transition import transition
from app.integrations.http import PermanentUpstreamError, UpstreamAuthError
from app.integrations.shipping import display_name
from app.models import Shipment, ShipmentLog, ShipmentState
from app.services import Services


async def next_courier(svc: Services, shipment: Shipment, failure: str, leave_aggregator: bool,
                       attempts: int) -> bool:
    """The chosen courier failed for good: hop to the next eligible courier (same aggregator first, in
    sequential routing), then to the next aggregator. Leaving an aggregator cancels the order booked
    there first, so an order never has two live bookings. False: nowhere left to go (AWB Failed)."""
    old = shipment.aggregator
    why = f"{attempts} attempt(s) failed: {failure}"
    hops = [*(shipment.booking_hops or []), routing.hop(old, shipment.courier_id or "", why)]
    if leave_aggregator:
        hops.append(routing.hop(old, routing.WHOLE_AGGREGATOR, why))
    found = await routing.route(svc, ship_order_from_json(shipment.order), hops)
    if found.decision is None:
        return False
    courier = found.decision.courier
    detail = (f"{shipment.courier_name} ({display_name(old)}) given up after {why}; next: {courier.name} on "
              f"{display_name(found.aggregator)} ({found.decision.reason})")
    if found.aggregator == old:
        async with svc.sessionmaker.begin() as session:
            await transition(session, shipment, "courier_hop", detail, state=ShipmentState.order_created,
                              courier_id=courier.courier_id, courier_name=courier.name,
                              courier_reason=found.decision.reason, awb_attempts=0, next_attempt_at=None,
                              last_error=failure[:1000], booking_hops=hops)
        return True
    if shipment.sr_order_id:
        # The abandoned booking must not stay live next to the new one.
        try:
            await svc.aggregator_for(old).cancel([shipment.sr_order_id])
        except UpstreamAuthError:
            raise
        except PermanentUpstreamError as exc:
            async with svc.sessionmaker.begin() as session:
                session.add(ShipmentLog(shipment_id=shipment.id, step="hop_refused",
                                        detail=f"{detail}; but {display_name(old)} refused to cancel order "
                                               f"{shipment.sr_order_id}: {exc.upstream_message}"))
            return False
        detail += f"; {display_name(old)} order {shipment.sr_order_id} cancelled"
    async with svc.sessionmaker.begin() as session:
        await transition(session, shipment, "aggregator_hop", detail, state=ShipmentState.courier_chosen,
                          aggregator=found.aggregator, courier_id=courier.courier_id, courier_name=courier.name,
                          courier_reason=found.decision.reason, sr_order_id=None, sr_shipment_id=None,
                          awb_attempts=0, next_attempt_at=None, last_error=failure[:1000], booking_hops=hops)
    return True


async def park(session: AsyncSession, shipment: Shipment, reason: str) -> None:
    """Out of the job's loop until a person acts (accept terms, recharge): retrying cannot help, and the
    ops Retry action resumes the shipment from the state it was parked in."""
    # "gave up in <state>" is what the Retry action reads back to resume from.
    await transition(session, shipment, "stalled", f"gave up in {shipment.state} until the seller acts: {reason}",
                      state=ShipmentState.stalled, last_error=reason[:1000])
    await raise_alert(session, kind="fulfilment_parked", key=shipment.salesorder_id,
                      salesorder_id=shipment.salesorder_id,
                      message=f"{shipment.salesorder_number} is parked: {reason}. Once that is done, Retry it "
                              "from the dashboard.")
