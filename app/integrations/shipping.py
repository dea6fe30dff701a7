"""The aggregator-neutral words for what happens to a parcel after booking: its tracking status, one
tracking report, a COD remittance batch and a weight dispute. Each aggregator's adapter maps its own
JSON to these (app/integrations/<aggregator>/); the domains (tracking, remittance) read only these.
Pure: no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.integrations.http import PermanentUpstreamError


class TrackingStatus(enum.StrEnum):
    unknown = "unknown"  # a code we have no mapping for: stored, never moves a shipment
    exception = "exception"  # pickup error, QC failed, partial delivery...: stored, never moves a shipment
    awb_assigned = "awb_assigned"
    pickup_scheduled = "pickup_scheduled"
    picked_up = "picked_up"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    undelivered = "undelivered"  # a failed delivery attempt (NDR)
    delivered = "delivered"
    rto_initiated = "rto_initiated"
    rto_in_transit = "rto_in_transit"
    rto_delivered = "rto_delivered"
    lost = "lost"  # lost, damaged, destroyed, disposed of, untraceable
    cancelled = "cancelled"


@dataclass(frozen=True)
class TrackingUpdate:
    """One status report about one parcel, whoever sent it. The raw codes and labels are kept exactly as
    the aggregator wrote them (stored on every tracking event): `shipment_status_id`/`shipment_status`
    are the parcel-level code and label, `current_status_id`/`current_status` an order-level pair for
    aggregators that have one (Shiprocket's two numberings). An aggregator whose statuses are words
    (Shiplee) leaves the ids None and puts its word in `shipment_status`."""

    awb: str
    status: TrackingStatus
    scheme: str  # which field decided the status, e.g. shipment_status_id | sr-status | label | shiplee:status
    shipment_status_id: int | None
    shipment_status: str
    current_status_id: int | None
    current_status: str
    event_at: datetime  # UTC
    stamp: str  # the event's time (or version) exactly as the aggregator wrote it: part of the dedupe key
    is_return: bool = False
    channel_order_id: str = ""
    aggregator_order_id: str = ""  # the aggregator's own order id (Shiprocket's sr_order_id)
    courier_name: str = ""
    scan_code: str = ""
    scan_activity: str = ""
    scan_location: str = ""
    aggregator: str = ""

    @property
    def raw_code(self) -> str:
        """The code that decided the status, with its scheme, e.g. "shipment:18", "order:20" or
        "shiplee:delivered"."""
        if self.scheme in ("shipment_status_id", "sr-status"):
            return f"shipment:{self.shipment_status_id}"
        if self.scheme == "current_status_id":
            return f"order:{self.current_status_id}"
        if self.scheme == "label":
            return f"label:{self.shipment_status or self.current_status}"
        return f"{self.aggregator or self.scheme}:{self.shipment_status or self.current_status}"

    @property
    def dedupe_key(self) -> str:
        """A redelivery (or a poll that finds nothing new) repeats awb + status code + stamp; a new
        status or scan does not."""
        code = self.shipment_status_id if self.shipment_status_id is not None else self.current_status_id
        return f"{self.awb}:{code if code is not None else self.shipment_status or self.current_status}:{self.stamp}"


@dataclass(frozen=True)
class RemittanceItem:
    """One parcel's part of a COD remittance. `cod_amount` None: the aggregator names the parcel but not
    its amount (a grouped Shiplee row); `deductions` None: the batch's deductions are not itemised."""

    awb: str
    order_id: str = ""  # our channel order id as the aggregator sent it, when it does
    cod_amount: Decimal | None = None
    deductions: Decimal | None = None


@dataclass(frozen=True)
class RemittanceBatch:
    """One COD bank transfer (or its announcement). `items` empty with `itemised` False: the listing
    gives totals only (Shiprocket), and which orders it paid is read per order (`remittance_order`).
    `paid`: the money has left the aggregator (a UTR, or a status that says so); unpaid batches are
    not recorded in Books."""

    batch_id: str
    utr: str | None
    remittance_date: date
    gross: Decimal  # the COD collected
    deductions: Decimal  # the aggregator's fees, GST included
    remitted: Decimal  # what reaches the bank
    paid: bool = True
    itemised: bool = False
    items: tuple[RemittanceItem, ...] = ()


@dataclass(frozen=True)
class RemittanceListing:
    """What an aggregator lists for a date range: the batches it could read, and a reason for each row it
    could not (an unreadable amount), so one bad row is reported without hiding the rest."""

    batches: tuple[RemittanceBatch, ...]
    unreadable: tuple[str, ...] = ()  # "<row id>: <why>"


@dataclass(frozen=True)
class OrderRemittance:
    """What the aggregator says about one order's COD: the UTR of the batch that paid it (empty while
    unpaid) and the amount."""

    channel_order_id: str
    utr: str
    cod_amount: Decimal


@dataclass(frozen=True)
class WeightDispute:
    """A courier's re-weighing that the aggregator charges for (or will, unless the seller disputes it)."""

    dispute_id: str
    awb: str
    order_id: str
    courier: str
    booked_grams: int
    applied_grams: int
    charges: Decimal
    status: str  # the aggregator's word (Shiplee: DISPUTE while open)
    closed: bool
    raised_at: datetime | None


def display_name(aggregator: str) -> str:
    """An aggregator's name as sellers write it ("shiprocket" -> "Shiprocket"), for alerts and logs."""
    return aggregator.capitalize()


# Where in an aggregator's own panel a person does by hand what a refused call could not: alerts point
# there. Only pages the references name (Shiprocket's); elsewhere the alert says "<name>'s panel".
PANEL_PAGES: dict[tuple[str, str], str] = {
    ("shiprocket", "pickup"): "Orders > Ready To Ship",
    ("shiprocket", "manifest"): "Orders > Manifest",
    ("shiprocket", "edit_address"): "Orders > Edit address",
}


def panel(aggregator: str, page: str) -> str:
    """ "Shiprocket's panel (Orders > Ready To Ship)", or "Shiplee's panel" where no page is known."""
    where = PANEL_PAGES.get((aggregator, page))
    return f"{display_name(aggregator)}'s panel" + (f" ({where})" if where else "")


class UnsupportedByAggregator(PermanentUpstreamError):
    """The aggregator has no API for this (Shiplee: no returns, no NDR action): a person does it in the
    aggregator's panel. Never retried."""

    def __init__(self, service: str, what: str) -> None:
        name = display_name(service)
        super().__init__(service, f"{name} has no API to {what}; do it in {name}'s own panel")
        self.what = what


class AccountActionRequired(PermanentUpstreamError):
    """The aggregator refuses work for this account until a person acts (Shiplee: terms to accept, an
    e-mail to verify, a wallet to recharge). The client has alerted ops; fulfilment routes around it or
    parks the order, and the pollers skip the aggregator until it clears. Never retried."""
