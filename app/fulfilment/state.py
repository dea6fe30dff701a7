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
    request_pickup = "request_pickup"
    generate_label = "generate_label"
    generate_manifest = "generate_manifest"
    wait = "wait"  # an AWB retry is scheduled for later
    done = "done"


# cf_shipment_status values for the states fulfilment owns (tracking owns the rest).
STATUS_LABELS: dict[str, str] = {
    ShipmentState.serviceability_failed: "Serviceability Failed",
    ShipmentState.order_failed: "Order Failed",
    ShipmentState.awb_failed: "AWB Failed",
    ShipmentState.awb_assigned: "AWB Assigned",
    # The payment-method hold's label; other holds label by their reason (hold_label below).
    ShipmentState.on_hold: "On Hold (payment method unknown)",
    ShipmentState.pickup_requested: "Pickup Scheduled",
    ShipmentState.cancelled: "Cancelled",
}

# Tracking statuses from which a pickup request, label or manifest no longer matters: the courier has
# the parcel (or it is gone), so the dispatch steps are skipped rather than refused upstream.
PAST_PICKUP = frozenset({"picked_up", "in_transit", "out_for_delivery", "undelivered", "delivered",
                         "rto_initiated", "rto_in_transit", "rto_delivered", "lost", "cancelled"})

# Terminal failure states still get their label written to Zoho so no order sits silently in Confirmed.
_NEEDS_LABEL = (ShipmentState.serviceability_failed, ShipmentState.order_failed, ShipmentState.awb_failed,
                ShipmentState.on_hold)


# hold_reason prefix -> what Zoho shows for a hold of that kind.
HOLD_LABELS = {"RTO risk": "On Hold (RTO risk)"}


def hold_label(hold_reason: str | None) -> str:
    reason = hold_reason or ""
    return next((label for prefix, label in HOLD_LABELS.items() if reason.startswith(prefix)),
                STATUS_LABELS[ShipmentState.on_hold])


def state_label(shipment: Shipment) -> str | None:
    """What Zoho should show for a state fulfilment owns; a hold says which kind of hold."""
    if shipment.state == ShipmentState.on_hold:
        return hold_label(shipment.hold_reason)
    return STATUS_LABELS.get(shipment.state)


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
    if state in _NEEDS_LABEL and shipment.zoho_synced_label != state_label(shipment):
        return Step.write_back
    if state == ShipmentState.cancelled:
        # Only a booked order ever showed anything on Zoho; a never-booked one needs no "Cancelled".
        # status_label is already "Cancelled" when Zoho cannot take it (a void order is not editable).
        booked = shipment.sr_order_id is not None
        return Step.write_back if booked and shipment.status_label != "Cancelled" else Step.done
    if state in _DISPATCH and shipment.tracking_status in PAST_PICKUP:
        return Step.done
    return _DISPATCH.get(ShipmentState(state), Step.done) if state in _DISPATCH else Step.done


# After the AWB is on Zoho: pickup, then "Pickup Scheduled" on Zoho, then label, then manifest.
_DISPATCH: dict[ShipmentState, Step] = {
    ShipmentState.synced: Step.request_pickup,
    ShipmentState.pickup_requested: Step.write_back,
    ShipmentState.pickup_scheduled: Step.generate_label,
    ShipmentState.labelled: Step.generate_manifest,
}
