"""What Shipbridge needs from a shipping aggregator, in our own words: booking (fulfilment), tracking,
returns, NDR and COD remittance. Shiprocket and Shiplee implement it; everything aggregator-specific
(paths, field names, status codes, error quirks) stays behind it, under app/integrations/<aggregator>/.
The after-booking vocabulary (TrackingUpdate, RemittanceBatch, ...) is in app.integrations.shipping.
Where an aggregator has no API for a method it raises UnsupportedByAggregator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from app.integrations.http import PermanentUpstreamError
from app.integrations.shipping import OrderRemittance, RemittanceListing, TrackingUpdate, WeightDispute


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    line2: str
    city: str
    state: str
    pincode: str
    country: str
    phone: str
    email: str


@dataclass(frozen=True)
class OrderLine:
    line_item_id: str
    item_id: str
    sku: str
    name: str
    quantity: Decimal
    rate: Decimal  # rupees per unit as the customer pays it: GST included, line discount taken off
    hsn: str = ""
    tax_percent: Decimal = Decimal(0)  # the line's GST rate, sent to Shiprocket as `tax`


@dataclass(frozen=True)
class Parcel:
    weight_kg: Decimal
    length_cm: Decimal
    breadth_cm: Decimal
    height_cm: Decimal


@dataclass(frozen=True)
class ShipOrder:
    """A sales order as fulfilment sees it, whatever system it came from."""

    salesorder_id: str
    salesorder_number: str
    order_date: date
    customer_id: str
    address: Address
    lines: tuple[OrderLine, ...]
    total: Decimal  # what the customer pays (and what a COD courier collects)
    payment_method: str  # "COD" | "Prepaid"
    parcel: Parcel
    location_id: str = ""
    shipping_charges: Decimal = Decimal(0)  # what the customer pays for shipping, tax included

    @property
    def cod(self) -> bool:
        return self.payment_method == "COD"


@dataclass(frozen=True)
class CourierOption:
    """One courier service an aggregator offers for a parcel. `courier_id` is the aggregator's own booking
    key, as a string: Shiprocket's numeric courier_company_id ("12"), Shiplee's carrier_id ("41"); it
    means nothing without `aggregator`."""

    courier_id: str
    name: str
    rate: Decimal
    etd_days: int | None
    rating: Decimal | None = None
    aggregator: str = ""  # the aggregator that quoted it ("shiprocket" | "shiplee"); set by the adapter


@dataclass(frozen=True)
class Serviceability:
    options: tuple[CourierOption, ...]
    recommended_id: str | None = None


@dataclass(frozen=True)
class CreatedOrder:
    order_id: str  # the aggregator's own order id
    shipment_id: str
    status: str
    awb: str | None = None  # set when an existing order already carries an AWB
    courier_name: str | None = None
    reused_existing: bool = False
    cancelled: bool = False  # the aggregator answered with an existing, cancelled order


@dataclass(frozen=True)
class AwbAssignment:
    awb: str
    courier_id: str | None
    courier_name: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ReturnOrder:
    """A customer return: the aggregator collects `lines` from `customer` and delivers them to `warehouse`."""

    channel_order_id: str
    order_date: date
    customer: Address
    warehouse: Address
    lines: tuple[OrderLine, ...]
    parcel: Parcel
    reason: str = ""
    pickup_location_id: str = ""  # the aggregator's id of the warehouse (Shiprocket wants it on returns)

    @property
    def sub_total(self) -> Decimal:
        return sum((line.rate * line.quantity for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class PickupRequest:
    """A pickup the aggregator has queued with the courier. `already_queued`: an earlier request (whose
    reply we lost) got through; the aggregator then repeats neither the date nor the token."""

    scheduled_date: datetime | None
    token_number: str | None
    already_queued: bool = False


@dataclass(frozen=True)
class Manifest:
    url: str
    already_generated: bool = False  # an earlier call made it; the URL was read back


class AwbAssignmentFailed(PermanentUpstreamError):
    """The aggregator answered but assigned no AWB (often inside an HTTP 200)."""


class AwbAlreadyAssigned(PermanentUpstreamError):
    """The shipment already has an AWB: a previous attempt succeeded after all."""


class DuplicateOrder(PermanentUpstreamError):
    """The aggregator refused an order id it already knows, without saying which order that is."""


class StepNotOffered(Exception):
    """The aggregator has no such step (Shiplee: no pickup request, no label API) or not yet (a manifest
    before the aggregator manifested the parcel). Not a failure: dispatch records the reason and moves on."""


class Aggregator(Protocol):
    name: str
    pushes_tracking: bool  # sends tracking webhooks (polling then only catches what they missed)
    track_batch: int  # most AWBs one track() call takes
    # True: a repeated create_order with our order id is answered with the order the aggregator already
    # has, so fulfilment may create without looking first (and overlap the create with the quote).
    # False (Shiplee): fulfilment looks the order up with find_order before creating, never blind.
    duplicate_guard: bool

    async def check_serviceability(self, order: ShipOrder, pickup_pincode: str) -> Serviceability: ...

    async def create_order(self, order: ShipOrder, channel_order_id: str) -> CreatedOrder: ...

    async def find_order(self, channel_order_id: str) -> CreatedOrder | None: ...

    async def assign_awb(self, shipment_id: str, courier_id: str | None) -> AwbAssignment: ...

    async def shipment_awb(self, order_id: str, shipment_id: str) -> AwbAssignment | None: ...

    async def request_pickup(self, shipment_id: str) -> PickupRequest:
        """Queue the courier's pickup of one shipment; a repeat is not an error (already_queued)."""
        ...

    async def generate_label(self, shipment_id: str) -> str:
        """The label PDF's URL; asking again gives the existing label."""
        ...

    async def generate_manifest(self, shipment_id: str, order_id: str) -> Manifest:
        """Manifest a shipment whose pickup was requested; a repeat reads the existing manifest back."""
        ...

    async def cancel(self, order_ids: list[str]) -> None:
        """Cancel orders not yet picked up; raises PermanentUpstreamError when refused."""
        ...

    async def track(self, awbs: list[str]) -> dict[str, TrackingUpdate]:
        """The latest status of each AWB (at most track_batch), keyed by AWB; one with nothing yet is left out."""
        ...

    async def remittances(self, start: date, end: date) -> RemittanceListing:
        """COD remittance batches dated `start`..`end`, itemised when the aggregator itemises them."""
        ...

    async def remittance_order(self, order_id: str) -> OrderRemittance | None:
        """Which batch paid one of the aggregator's orders, for listings that are not itemised."""
        ...

    async def weight_disputes(self, start: date, end: date) -> list[WeightDispute]: ...

    async def blocked(self) -> str | None:
        """Why the aggregator cannot take work until a person acts (already alerted), or None. Cheap when
        nothing is wrong: pollers ask it before every run."""
        ...

    async def account_blocker(self) -> str | None:
        """Why a booking would be refused now, asked without making one (routing's re-check of an
        aggregator it remembers as blocked), or None: ready. An aggregator with no such check raises
        UnsupportedByAggregator, and the next order's booking tells instead."""
        ...

    async def create_return(self, order: ReturnOrder) -> CreatedOrder: ...

    async def pickup_address(self, location: str) -> Address | None: ...

    async def pickup_location(self, location: str) -> tuple[str, Address] | None: ...

    async def ndr_action(self, awb: str, action: str, comments: str) -> None: ...
