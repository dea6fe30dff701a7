"""Tracking statuses in our own words, and the rules for moving between them. Pure: no I/O.

The statuses themselves (TrackingStatus) belong to the aggregator boundary (app.integrations.shipping):
each aggregator's adapter maps its own codes to them (app/integrations/<aggregator>/). What a status
means for a parcel, which one may follow which, what Zoho shows and what each one sets off, is ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from app.integrations.shipping import TrackingStatus

__all__ = ["TrackingStatus", "can_advance", "fold", "label_for", "parse_status", "planned_effects"]

S = TrackingStatus


# --- forward-only rules ------------------------------------------------------------------------------

# Progress along a parcel's life. Equal ranks are alternatives at the same stage (an NDR and the next
# delivery attempt); a status never replaces one of higher rank.
RANK: dict[TrackingStatus, int] = {
    S.awb_assigned: 10, S.pickup_scheduled: 20, S.picked_up: 30, S.in_transit: 40,
    S.out_for_delivery: 50, S.undelivered: 50, S.rto_initiated: 60, S.rto_in_transit: 70, S.lost: 80,
    S.cancelled: 85, S.rto_delivered: 90, S.delivered: 100,
}
RTO_BRANCH = frozenset({S.rto_initiated, S.rto_in_transit, S.rto_delivered})
FINAL = frozenset({S.delivered, S.rto_delivered, S.cancelled})  # nothing moves these, and polling stops
# Statuses from which the goods have left the warehouse (so Zoho should show the order as shipped).
LEFT_WAREHOUSE = frozenset({S.picked_up, S.in_transit, S.out_for_delivery, S.undelivered, S.delivered,
                            S.rto_initiated, S.rto_in_transit, S.rto_delivered, S.lost})
_ATTEMPTS = frozenset({S.out_for_delivery, S.undelivered})


def parse_status(value: str | None) -> TrackingStatus | None:
    if not value:
        return None
    try:
        return TrackingStatus(value)
    except ValueError:
        return S.unknown


def can_advance(current: TrackingStatus | None, new: TrackingStatus, *, newer: bool) -> bool:
    """Whether `new` replaces `current`. `newer` says the new event happened after the one that set
    `current` (only consulted between a delivery attempt and an NDR, which may alternate)."""
    if new in (S.unknown, S.exception):
        return False
    if current is None or current in (S.unknown, S.exception):
        return True
    if current == new or current in FINAL:
        return False
    if current == S.lost:  # a lost parcel that turns up after all
        return new in (S.delivered, S.rto_delivered)
    if new == S.cancelled:  # only a parcel that has not left can be cancelled
        return RANK[current] < RANK[S.picked_up]
    if current in RTO_BRANCH:  # the RTO branch moves forward only within itself (or gets lost)
        return (new in RTO_BRANCH and RANK[new] > RANK[current]) or new == S.lost
    if current in _ATTEMPTS and new in _ATTEMPTS:
        return newer
    return RANK[new] > RANK[current]


def fold(current: TrackingStatus | None, last_at: datetime | None,
         events: Sequence[tuple[TrackingStatus, datetime, str]]) -> tuple[
             TrackingStatus | None, datetime | None, list[tuple[bool, str]]]:
    """Apply events (status, event time, raw code), in the order given, to a parcel at `current`
    (reached at `last_at`). Returns the new status and time, and per event (moved?, outcome)."""
    status, at = current, last_at
    outcomes: list[tuple[bool, str]] = []
    for new, when, raw in events:
        if can_advance(status, new, newer=at is None or when > at):
            outcomes.append((True, f"moved {status.value if status else 'none'} -> {new.value}"))
            status, at = new, when
        elif new == S.unknown:
            outcomes.append((False, f"recorded only: unknown status code {raw}"))
        elif new == S.exception:
            outcomes.append((False, f"recorded only: {raw} does not change the shipment's status"))
        elif status == new:
            outcomes.append((False, f"recorded only: already {new.value}"))
        else:
            outcomes.append((False, f"recorded only: would move {status.value if status else 'none'} to "
                                    f"{new.value} (never backwards)"))
    return status, at, outcomes


# --- what Zoho shows (cf_shipment_status) ------------------------------------------------------------

# The integration guide's table, plus Undelivered (NDR) and Cancelled. No entry = nothing to show.
DEFAULT_LABELS: dict[TrackingStatus, str] = {
    S.awb_assigned: "AWB Assigned", S.pickup_scheduled: "Pickup Scheduled", S.picked_up: "Picked Up",
    S.in_transit: "In Transit", S.out_for_delivery: "Out for Delivery", S.undelivered: "Undelivered",
    S.delivered: "Delivered", S.rto_initiated: "RTO Initiated", S.rto_in_transit: "RTO Initiated",
    S.rto_delivered: "Returned", S.lost: "Lost in Transit", S.cancelled: "Cancelled",
}
# A customer-return parcel (is_return) shows its own progress on the sales order.
DEFAULT_RETURN_LABELS: dict[TrackingStatus, str] = {
    S.awb_assigned: "Return Pickup Scheduled", S.pickup_scheduled: "Return Pickup Scheduled",
    S.picked_up: "Return In Transit", S.in_transit: "Return In Transit", S.out_for_delivery: "Return In Transit",
    S.undelivered: "Return In Transit", S.delivered: "Returned", S.lost: "Lost in Transit",
    S.cancelled: "Return Cancelled",
}


def label_for(status: TrackingStatus, *, is_return: bool = False,
              overrides: Mapping[str, str] | None = None) -> str | None:
    """The cf_shipment_status value for a status. Overrides are keyed by status value ("delivered"), or
    "return:<status>" for return parcels; an empty override hides the status."""
    key = f"return:{status.value}" if is_return else status.value
    if overrides and key in overrides:
        return overrides[key] or None
    table = DEFAULT_RETURN_LABELS if is_return else DEFAULT_LABELS
    return table.get(status)


# --- what each status does ---------------------------------------------------------------------------

def planned_effects(status: TrackingStatus, *, is_return: bool, record_delivery: bool) -> list[str]:
    """The side effects a parcel at `status` must have had, in order (each runs once per parcel, so a
    parcel that skips statuses still gets everything its current status implies). The status label is
    written after these."""
    effects: list[str] = []
    if is_return:
        if status == S.delivered:  # the return parcel is back at our warehouse
            effects.append("restock")
        if status == S.lost:
            effects.append("alert_lost")
        return effects
    if record_delivery and status in LEFT_WAREHOUSE:
        effects.append("zoho_shipment")  # stock leaves Zoho when the courier has the goods
    if record_delivery and status == S.delivered:
        effects.append("zoho_delivered")
    if status == S.undelivered:
        effects.append("alert_ndr")
    if status in (S.rto_initiated, S.rto_in_transit):
        effects.append("alert_rto")
    if status == S.rto_delivered:
        effects.append("restock")
    if status == S.lost:
        effects.append("alert_lost")
    return effects
