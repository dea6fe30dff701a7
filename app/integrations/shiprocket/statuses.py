"""Shiprocket's status codes in our words. Pure: no I/O.

Shiprocket numbers statuses in two schemes that reuse the same integers for different things (facts §5):
the *shipment* scheme (webhook `shipment_status_id`, scan `sr-status`, tracking API `shipment_status`)
and the *order* scheme (webhook `current_status_id`). Each has its own table here and a status is always
looked up in the table of the field it came from. Unknown codes map to `unknown` (karrio's explicit
default): recorded with their raw code, never acted on.
"""

from __future__ import annotations

from app.integrations.shipping import TrackingStatus

S = TrackingStatus

# §5B shipment-status ids (plus the pre-pickup codes 1-5 and 11) -> (Shiprocket's label, our status).
SHIPMENT_SCHEME: dict[int, tuple[str, TrackingStatus]] = {
    1: ("AWB Assigned", S.awb_assigned), 2: ("Label Generated", S.awb_assigned),
    3: ("Pickup Scheduled", S.pickup_scheduled), 4: ("Pickup Queued", S.pickup_scheduled),
    5: ("Manifest Generated", S.pickup_scheduled), 6: ("Shipped", S.in_transit), 7: ("Delivered", S.delivered),
    8: ("Canceled", S.cancelled), 9: ("RTO Initiated", S.rto_initiated), 10: ("RTO Delivered", S.rto_delivered),
    11: ("Pending", S.awb_assigned), 12: ("Lost", S.lost), 13: ("Pickup Error", S.exception),
    14: ("RTO Acknowledged", S.rto_delivered), 15: ("Pickup Rescheduled", S.pickup_scheduled),
    16: ("Cancellation Requested", S.exception), 17: ("Out For Delivery", S.out_for_delivery),
    18: ("In Transit", S.in_transit), 19: ("Out For Pickup", S.pickup_scheduled),
    20: ("Pickup Exception", S.exception), 21: ("Undelivered", S.undelivered), 22: ("Delayed", S.in_transit),
    23: ("Partial_Delivered", S.exception), 24: ("DESTROYED", S.lost), 25: ("DAMAGED", S.lost),
    26: ("FULFILLED", S.delivered), 27: ("Pickup Booked", S.pickup_scheduled),
    38: ("REACHED AT DESTINATION HUB", S.in_transit), 39: ("MISROUTED", S.in_transit),
    40: ("RTO_NDR", S.rto_in_transit), 41: ("RTO_OFD", S.rto_in_transit), 42: ("PICKED UP", S.picked_up),
    43: ("SELF FULFILLED", S.delivered), 44: ("DISPOSED OFF", S.lost),
    45: ("CANCELLED_BEFORE_DISPATCHED", S.cancelled), 46: ("RTO IN INTRANSIT", S.rto_in_transit),
    47: ("QC FAILED", S.exception), 48: ("Reached Warehouse", S.in_transit), 49: ("Custom Cleared", S.in_transit),
    50: ("In Flight", S.in_transit), 51: ("Handover to Courier", S.picked_up),
    52: ("Shipment Booked", S.awb_assigned), 54: ("In Transit Overseas", S.in_transit),
    55: ("Connection Aligned", S.in_transit), 56: ("Reached Overseas Warehouse", S.in_transit),
    57: ("Custom Cleared Overseas", S.in_transit), 59: ("Box Packing", S.awb_assigned),
    60: ("FC Allocated", S.awb_assigned), 61: ("Picklist Generated", S.awb_assigned),
    62: ("Ready To Pack", S.awb_assigned), 63: ("Packed", S.awb_assigned),
    67: ("FC MANIFEST GENERATED", S.pickup_scheduled), 68: ("PROCESSED AT WAREHOUSE", S.pickup_scheduled),
    71: ("HANDOVER EXCEPTION", S.exception), 72: ("PACKED EXCEPTION", S.exception),
    75: ("RTO_LOCK", S.rto_initiated), 76: ("UNTRACEABLE", S.lost),
    77: ("ISSUE_RELATED_TO_THE_RECIPIENT", S.undelivered), 78: ("REACHED_BACK_AT_SELLER_CITY", S.rto_in_transit),
}

# §5A order-status ids (webhook `current_status_id`) -> our status. Used only when a payload carries no
# shipment-scheme id at all; return-leg codes (21-32, 47-50, 68) describe the customer-return parcel.
ORDER_SCHEME: dict[int, tuple[str, TrackingStatus]] = {
    1: ("New", S.unknown), 2: ("Invoiced", S.unknown), 3: ("Ready To Ship", S.awb_assigned),
    4: ("Pickup Scheduled", S.pickup_scheduled), 5: ("Canceled", S.cancelled), 6: ("Shipped", S.in_transit),
    7: ("Delivered", S.delivered), 9: ("Returned", S.rto_delivered), 12: ("Pickup Queue", S.pickup_scheduled),
    13: ("Pickup Rescheduled", S.pickup_scheduled), 14: ("Pickup Error", S.exception),
    15: ("RTO Initiated", S.rto_initiated), 16: ("RTO Delivered", S.rto_delivered),
    17: ("RTO Acknowledged", S.rto_delivered), 18: ("Cancellation Requested", S.exception),
    19: ("Out for Delivery", S.out_for_delivery), 20: ("In Transit", S.in_transit),
    21: ("Return Pending", S.awb_assigned), 22: ("Return Initiated", S.awb_assigned),
    23: ("Return Pickup Queued", S.pickup_scheduled), 24: ("Return Pickup Error", S.exception),
    25: ("Return In Transit", S.in_transit), 26: ("Return Delivered", S.delivered),
    27: ("Return Cancelled", S.cancelled), 28: ("Return Pickup Generated", S.pickup_scheduled),
    29: ("Return Cancellation Requested", S.exception), 30: ("Return Pickup Cancelled", S.cancelled),
    31: ("Return Pickup Rescheduled", S.pickup_scheduled), 32: ("Return Picked Up", S.picked_up),
    33: ("Lost", S.lost), 34: ("Out For Pickup", S.pickup_scheduled), 35: ("Pickup Exception", S.exception),
    36: ("Undelivered", S.undelivered), 37: ("Delivery Delayed", S.in_transit),
    38: ("Partial Delivered", S.exception), 39: ("Destroyed", S.lost), 40: ("Damaged", S.lost),
    41: ("Fulfilled", S.delivered), 42: ("Archived", S.unknown), 43: ("Reached Destination Hub", S.in_transit),
    44: ("Misrouted", S.in_transit), 45: ("RTO_OFD", S.rto_in_transit), 46: ("RTO_NDR", S.rto_in_transit),
    47: ("Return Out For Pickup", S.pickup_scheduled), 48: ("Return Out For Delivery", S.out_for_delivery),
    49: ("Return Pickup Exception", S.exception), 50: ("Return Undelivered", S.undelivered),
    51: ("Picked Up", S.picked_up), 52: ("Self Fulfilled", S.delivered), 53: ("Disposed Off", S.lost),
    54: ("Canceled before Dispatched", S.cancelled), 55: ("RTO In-Transit", S.rto_in_transit),
    57: ("QC Failed", S.exception), 58: ("Reached Warehouse", S.in_transit), 59: ("Custom Cleared", S.in_transit),
    60: ("In Flight", S.in_transit), 61: ("Handover to Courier", S.picked_up), 62: ("Booked", S.awb_assigned),
    64: ("In Transit Overseas", S.in_transit), 65: ("Connection Aligned", S.in_transit),
    66: ("Reached Overseas Warehouse", S.in_transit), 67: ("Custom Cleared Overseas", S.in_transit),
    68: ("RETURN ACKNOWLEGED", S.delivered), 69: ("Box Packing", S.awb_assigned),
    70: ("Pickup Booked", S.pickup_scheduled), 71: ("DARKSTORE SCHEDULED", S.pickup_scheduled),
    72: ("Allocation in Progress", S.awb_assigned), 73: ("FC Allocated", S.awb_assigned),
    74: ("Picklist Generated", S.awb_assigned), 75: ("Ready to Pack", S.awb_assigned),
    76: ("Packed", S.awb_assigned), 80: ("FC MANIFEST GENERATED", S.pickup_scheduled),
    81: ("PROCESSED AT WAREHOUSE", S.pickup_scheduled), 82: ("PACKED EXCEPTION", S.exception),
    83: ("HANDOVER EXCEPTION", S.exception), 87: ("RTO_LOCK", S.rto_initiated), 88: ("UNTRACEABLE", S.lost),
    89: ("ISSUE_RELATED_TO_THE_RECIPIENT", S.undelivered), 90: ("REACHED_BACK_AT_SELLER_CITY", S.rto_in_transit),
}


def _text_key(label: str) -> str:
    return " ".join(label.upper().replace("_", " ").replace("-", " ").split())


# Label text -> status, for payloads that carry a status name but no id (shipment scheme wins ties).
BY_LABEL: dict[str, TrackingStatus] = {
    **{_text_key(name): status for name, status in ORDER_SCHEME.values()},
    **{_text_key(name): status for name, status in SHIPMENT_SCHEME.values()},
}


def from_shipment_id(code: int) -> TrackingStatus:
    entry = SHIPMENT_SCHEME.get(code)
    return entry[1] if entry else S.unknown


def from_order_id(code: int) -> TrackingStatus:
    entry = ORDER_SCHEME.get(code)
    return entry[1] if entry else S.unknown


def from_label(label: str) -> TrackingStatus:
    return BY_LABEL.get(_text_key(label), S.unknown)


def shipment_label(code: int) -> str:
    entry = SHIPMENT_SCHEME.get(code)
    return entry[0] if entry else ""
