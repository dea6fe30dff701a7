"""Which step a shipment needs next, and what Zoho should show for it. Pure, so the resume-anywhere
behaviour of the fulfilment job can be read (and tested) in one place."""

from __future__ import annotations

import enum
from datetime import datetime

from app.models import Shipment, ShipmentState


class Step(enum.StrEnum):
    choose_courier = "choose_courier"
    create_order = "create_order"
    assign_awb = "assign_awb"
    write_back = "write_back"
    wait = "wait"  # an AWB retry is scheduled for later
    done = "done"


# cf_shipment_status values for the states fulfilment owns (tracking owns the rest).
STATUS_LABELS: dict[str, str] = {
    ShipmentState.serviceability_failed: "Serviceability Failed",
    ShipmentState.order_failed: "Order Failed",
    ShipmentState.awb_failed: "AWB Failed",
    ShipmentState.awb_assigned: "AWB Assigned",
    # The only hold so far; a later hold reason (RTO risk) would label its own way.
    ShipmentState.on_hold: "On Hold (payment method unknown)",
}

# Terminal failure states still get their label written to Zoho so no order sits silently in Confirmed.
_NEEDS_LABEL = (ShipmentState.serviceability_failed, ShipmentState.order_failed, ShipmentState.awb_failed,
                ShipmentState.on_hold)


def next_step(shipment: Shipment, now: datetime) -> Step:
    state = shipment.state
    if state == ShipmentState.received:
        return Step.choose_courier
    if state == ShipmentState.courier_chosen:
        return Step.create_order
    if state == ShipmentState.order_created:
        return Step.assign_awb
    if state == ShipmentState.awb_retry:
        if shipment.next_attempt_at is not None and shipment.next_attempt_at > now:
            return Step.wait
        return Step.assign_awb
    if state == ShipmentState.awb_assigned:
        return Step.write_back
    if state in _NEEDS_LABEL and shipment.zoho_synced_label != STATUS_LABELS[state]:
        return Step.write_back
    return Step.done
