"""Shiprocket's two status numberings, kept apart on purpose.

A shipment moves in the *shipment-status* scheme (facts §5B: tracking `shipment_status`, webhook
`shipment_status_id`, scan `sr-status`), while the order carrying it reports the *order-status* scheme
(§5A: order `status_code`, webhook `current_status_id`). Public integrations often confuse the two
(e.g. reading 18 as "Picked Up"), so the simulator derives one from the other through an explicit table
and never reuses a number across schemes. Return shipments use the same shipment ids but map to the
RETURN_* order statuses.
"""

from __future__ import annotations

# §5A order status ids (subset the simulator can reach, plus the common neighbours).
ORDER_STATUS: dict[int, str] = {
    1: "NEW", 2: "INVOICED", 3: "READY TO SHIP", 4: "PICKUP SCHEDULED", 5: "CANCELED", 6: "SHIPPED",
    7: "DELIVERED", 9: "RETURNED", 12: "PICKUP QUEUE", 13: "PICKUP RESCHEDULED", 14: "PICKUP ERROR",
    15: "RTO INITIATED", 16: "RTO DELIVERED", 17: "RTO ACKNOWLEDGED", 18: "CANCELLATION REQUESTED",
    19: "OUT FOR DELIVERY", 20: "IN TRANSIT", 21: "RETURN PENDING", 22: "RETURN INITIATED",
    23: "RETURN PICKUP QUEUED", 24: "RETURN PICKUP ERROR", 25: "RETURN IN TRANSIT", 26: "RETURN DELIVERED",
    27: "RETURN CANCELLED", 28: "RETURN PICKUP GENERATED", 31: "RETURN PICKUP RESCHEDULED",
    32: "RETURN PICKED UP", 33: "LOST", 34: "OUT FOR PICKUP", 35: "PICKUP EXCEPTION", 36: "UNDELIVERED",
    37: "DELIVERY DELAYED", 38: "PARTIAL DELIVERED", 39: "DESTROYED", 40: "DAMAGED",
    43: "REACHED DESTINATION HUB",
    44: "MISROUTED", 45: "RTO_OFD", 46: "RTO_NDR", 47: "RETURN OUT FOR PICKUP", 48: "RETURN OUT FOR DELIVERY",
    49: "RETURN PICKUP EXCEPTION", 50: "RETURN UNDELIVERED", 51: "PICKED UP",
    54: "CANCELED BEFORE DISPATCHED",
    55: "RTO IN-TRANSIT", 62: "BOOKED", 70: "PICKUP BOOKED",
}

# §5B shipment status ids, including the pre-pickup codes 1-5 from the Shipments folder table.
SHIPMENT_STATUS: dict[int, str] = {
    1: "AWB Assigned", 2: "Label Generated", 3: "Pickup Scheduled", 4: "Pickup Queued",
    5: "Manifest Generated", 6: "Shipped", 7: "Delivered", 8: "Canceled", 9: "RTO Initiated",
    10: "RTO Delivered", 12: "Lost", 13: "Pickup Error", 14: "RTO Acknowledged", 15: "Pickup Rescheduled",
    16: "Cancellation Requested", 17: "Out For Delivery", 18: "In Transit", 19: "Out For Pickup",
    20: "Pickup Exception", 21: "Undelivered", 22: "Delayed", 23: "Partial_Delivered", 24: "DESTROYED",
    25: "DAMAGED", 27: "Pickup Booked", 38: "REACHED AT DESTINATION HUB", 39: "MISROUTED", 40: "RTO_NDR",
    41: "RTO_OFD", 42: "PICKED UP", 45: "CANCELLED_BEFORE_DISPATCHED", 46: "RTO IN INTRANSIT",
    52: "Shipment Booked",
}

# shipment status id (§5B) -> order status id (§5A), for forward and RTO legs.
FORWARD_ORDER_STATUS: dict[int, int] = {
    1: 3, 2: 3, 3: 4, 4: 12, 5: 4, 6: 6, 7: 7, 8: 5, 9: 15, 10: 16, 12: 33, 13: 14, 14: 17, 15: 13,
    16: 18, 17: 19, 18: 20, 19: 34, 20: 35, 21: 36, 22: 37, 23: 38, 24: 39, 25: 40, 27: 70, 38: 43,
    39: 44, 40: 46, 41: 45, 42: 51, 45: 54, 46: 55, 52: 62,
}

# Same shipment ids on a customer return (is_return=1) land on the RETURN_* order statuses.
RETURN_ORDER_STATUS: dict[int, int] = {
    **FORWARD_ORDER_STATUS,
    1: 22, 2: 22, 3: 28, 4: 23, 5: 28, 6: 25, 7: 26, 8: 27, 13: 24, 15: 31, 17: 48, 18: 25, 19: 47,
    20: 49, 21: 50, 27: 28, 38: 25, 42: 32, 52: 28,
}

# Shipment statuses from which the parcel has left the seller: cancel becomes a request, reassign is refused.
POST_PICKUP = frozenset({6, 7, 9, 10, 12, 14, 17, 18, 21, 22, 23, 24, 25, 38, 39, 40, 41, 42, 46})
# Where an RTO leg has started: later forward-looking scans do not clear the RTO flag.
RTO_STATUSES = frozenset({9, 10, 14, 40, 41, 46})

# Courier-side scan code and activity text per shipment status, in Delhivery's style (Sample A).
SCAN_TEXT: dict[int, tuple[str, str]] = {
    1: ("X-UCI", "Manifested - Consignment Manifested"),
    3: ("FMPUR-101", "Manifested - Pickup scheduled"),
    5: ("X-UCI", "Manifested - Manifest uploaded"),
    6: ("X-PIOM", "In Transit - Shipment Recieved at Origin Center"),
    7: ("EOD-38", "Delivered - Delivered to consignee"),
    8: ("CAN", "Cancelled - Shipment cancelled by seller"),
    9: ("EOD-6O", "RTO - Return to origin initiated"),
    10: ("RT-110", "RTO - Delivered back to seller"),
    12: ("LT-100", "Lost - Shipment lost in transit"),
    17: ("X-DDD3FD", "Out for Delivery - Out for delivery"),
    18: ("X-DLL2F", "In Transit - Bag Added To Trip"),
    19: ("X-ASP", "Pending - Out for pickup"),
    20: ("X-PNP", "Pending - Not Picked, shipment not received from client"),
    21: ("EOD-74", "Pending - Consignee unavailable"),
    27: ("X-PROM", "Manifested - Pickup booked"),
    38: ("X-IBD3F", "In Transit - Shipment Received at Destination Hub"),
    42: ("X-PPOM", "In Transit - Shipment picked up"),
    46: ("RT-101", "RTO - In transit back to origin"),
}


def order_status_for(shipment_status_id: int, *, is_return: bool) -> int:
    """The §5A order status an order shows while its shipment is at `shipment_status_id` (§5B)."""
    table = RETURN_ORDER_STATUS if is_return else FORWARD_ORDER_STATUS
    try:
        return table[shipment_status_id]
    except KeyError:
        raise ValueError(f"shipment status {shipment_status_id} has no order-status mapping") from None


def shipment_label(shipment_status_id: int) -> str:
    """Upper-case label as it appears in `sr-status-label` and webhook `shipment_status`."""
    return SHIPMENT_STATUS[shipment_status_id].upper()


def scan_text(shipment_status_id: int) -> tuple[str, str]:
    label = SHIPMENT_STATUS.get(shipment_status_id, "Update")
    return SCAN_TEXT.get(shipment_status_id, (f"X-{shipment_status_id}", f"{label} - Status updated"))
