"""Shiplee's answers as typed values (money in Decimal, Shiplee's ids as it sends them) and its refusals
as typed errors, so nothing past the client sees Shiplee's JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.integrations.http import PermanentUpstreamError
from app.integrations.shipping import AccountActionRequired, TrackingStatus


class ShipleeAgreementRequired(AccountActionRequired):
    """403 AGREEMENT_REQUIRED (seed §8): Shiplee refuses every call until a person accepts its current
    terms. Retrying cannot help and accepting is a legal act, so callers alert ops and stop."""


class ShipleeEmailNotVerified(AccountActionRequired):
    """403 EMAIL_NOT_VERIFIED (seed §8a): the account's e-mail must be verified before the agreement."""


class ShipleeInsufficientBalance(AccountActionRequired):
    """402 INSUFFICIENT_BALANCE (seed §12): the prepaid wallet is below ₹500; a recharge is needed."""


class ShipleeNotServiceable(PermanentUpstreamError):
    """No courier of the seller's plan serves the lane (rates 404, or book 422 NOT_SERVICEABLE)."""


@dataclass(frozen=True)
class ShipleeWarehouse:
    warehouse_id: str
    nickname: str
    address1: str
    address2: str
    city: str
    state: str
    pincode: str
    mobile: str
    primary: bool


@dataclass(frozen=True)
class ShipleeQuote:
    """One carrier service offered by `POST /api/rates`. `carrier_id` is the booking key."""

    carrier_id: str
    carrier_name: str
    ratecard_id: int | None
    courier_id: str
    zone: str
    freight: Decimal
    cod_charges: Decimal
    cost: Decimal  # freight + COD fee: what the wallet is debited


@dataclass(frozen=True)
class ShipleeBooking:
    """`POST /api/book_shipment`'s answer. `already_booked`: 409 ALREADY_BOOKED, an earlier attempt
    (whose reply we may have lost) got the AWB; the seed then gives only the AWB back."""

    order_id: str
    awb: str
    carrier_name: str = ""
    zone: str = ""
    freight: Decimal | None = None
    cod_charges: Decimal | None = None
    cost: Decimal | None = None
    already_booked: bool = False


@dataclass(frozen=True)
class ShipleeCancellation:
    cancelled: tuple[str, ...]  # Shiplee order ids now cancelled (or reset to new, for action="cancel")
    not_found: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()  # (order id, its status) that could not be cancelled
    wallet_balance: Decimal | None = None


@dataclass(frozen=True)
class ShipleeOrderRow:
    """An unbooked order as `POST /api/get_orders` lists it."""

    order_id: str
    channel_order_id: str
    status: str
    total: Decimal
    payment_type: str
    order_date: datetime | None


@dataclass(frozen=True)
class ShipleeShipmentStatus:
    """A booked order as `POST /api/search_orders` shows it: Shiplee's raw status and ours."""

    order_id: str
    awb: str
    raw_status: str
    status: TrackingStatus
    order_date: datetime | None


@dataclass(frozen=True)
class ShipleeManifest:
    pdf: bytes
    filename: str


@dataclass(frozen=True)
class ShipleeRemittance:
    """One grouped row of `GET /api/cod_remittance`: several AWBs settled together."""

    remittance_ids: tuple[str, ...]
    awbs: tuple[str, ...]
    cod_amount: Decimal
    net_remittance: Decimal
    base_charge: Decimal
    gst: Decimal
    status: str  # pending | completed | ... (only `pending` is in the seed)
    remittance_date: date | None
    utr: str | None
    wallet_convertible: bool
    unreadable: str | None = None  # why its money could not be read (the amounts are then zero and unused)


@dataclass(frozen=True)
class ShipleeRemittances:
    remitted_till_date: Decimal
    total_pending: Decimal
    open_disputes: int
    rows: tuple[ShipleeRemittance, ...]


@dataclass(frozen=True)
class ShipleeWeightDispute:
    dispute_id: str
    order_id: str
    awb: str
    carrier: str
    booked_grams: int
    applied_grams: int
    charges: Decimal
    status: str  # DISPUTE while open; closed automatically after 4 days (auto_accepted)
    auto_accepted: bool
    created_at: datetime | None


@dataclass(frozen=True)
class ShipleeAgreement:
    required: bool
    agreement_id: str | None = None
    title: str = ""
