"""Orders held back from shipping (ShipmentState.on_hold), and their release.

A hold is generic: `hold_reason` says why. Today's one reason is an order that names no payment method
(no cf_payment_method, no payment terms): shipping it prepaid by default would let a COD parcel go out
without the courier collecting, so it waits with an alert until the seller fills the field and saves the
order again (the next webhook releases it), unless DEFAULT_PAYMENT_METHOD says how to ship such orders."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import raise_alert
from app.fulfilment import repository
from app.fulfilment.order_mapping import ship_order_to_json
from app.integrations.aggregator import ShipOrder
from app.models import InboxState, Shipment, ShipmentLog, ShipmentState
from app.services import Services

UNKNOWN = "Unknown"  # Shipment.payment_method while nobody knows it
PAYMENT_UNKNOWN = "payment method unknown"


def is_payment_hold(shipment: Shipment) -> bool:
    return shipment.state == ShipmentState.on_hold and (shipment.hold_reason or "").startswith(PAYMENT_UNKNOWN)


async def hold_for_payment_method(session: AsyncSession, shipment_id: int, salesorder_id: str, number: str,
                                  read_from_zoho: bool) -> None:
    where = "the sales order read from Zoho" if read_from_zoho else "the webhook"
    reason = (f"{PAYMENT_UNKNOWN}: {where} has no cf_payment_method and no payment terms, and "
              "DEFAULT_PAYMENT_METHOD is not set")
    await repository.update_shipment(session, shipment_id, state=ShipmentState.on_hold, hold_reason=reason)
    session.add(ShipmentLog(shipment_id=shipment_id, step="on_hold", detail=reason))
    await raise_alert(session, kind="payment_method_unknown", key=salesorder_id, salesorder_id=salesorder_id,
                      message=f"{number}: not shipped because the order does not say COD or Prepaid. Fill in "
                              "the Payment Method field (or its payment terms) in Zoho and save the order; it "
                              "ships on the next update.")


async def release_payment_hold(svc: Services, shipment: Shipment, order: ShipOrder) -> tuple[str, str | None]:
    """The order now names its payment method: ship it as it stands now, from the top."""
    async with svc.sessionmaker.begin() as session:
        released = await repository.release_hold(
            session, shipment.id, payment_method=order.payment_method, order=ship_order_to_json(order),
            declared_value=order.total, weight_kg=order.parcel.weight_kg, length_cm=order.parcel.length_cm,
            breadth_cm=order.parcel.breadth_cm, height_cm=order.parcel.height_cm)
        if not released:
            return InboxState.done, "hold already released"
        session.add(ShipmentLog(shipment_id=shipment.id, step="released",
                                detail=f"payment method now {order.payment_method}; ₹{order.total}"))
    return InboxState.done, f"released from hold as {order.payment_method}"
