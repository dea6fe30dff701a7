"""An in-memory Shiplee (api4.shiplee.in/api/...) for tests and the sandbox, written from Shiplee's own
internal API document (/work/shared/reference/seeds/shiplee-api.txt, cited below as "seed §n").

It reproduces what an integration must survive: 3-hour bearer tokens (seed §1), the agreement gate that
refuses every protected call with 403 AGREEMENT_REQUIRED until the current terms are accepted (§8), the
booking pipeline's refusals in the seed's order (§12: 409 ALREADY_BOOKED, 404, 402 INSUFFICIENT_BALANCE
below ₹500, 422 NOT_SERVICEABLE), cancel rules split by status (§14, §15), and pull-only status, COD
remittance and weight disputes (§17, §23, §26, §27). Faults beyond those come from FaultBox.

The HTTP side lives in shiplee_routes.py; this class holds the state, the knobs tests turn, and
`advance()`, which plays the courier's part. Statuses after `manifested` are not in the seed at all:
the simulator uses lower-case words (`in_transit`, `delivered`, `rto`...) and docs/shiplee.md marks
them UNCERTAIN.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.faults import FaultBox

IST = ZoneInfo("Asia/Kolkata")
MIN_WALLET = Decimal(500)  # seed §12 step 5: "Wallet balance ≥ ₹500"
AGREEMENT_FREE = ("/api/agreement", "/api/login")  # seed §8: skip_agreement_check


def now_ist() -> datetime:
    return datetime.now(IST)


def rupees(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Ratecard:
    """One carrier service of the seller's plan, priced per weight slab as in seed §4's `slab`."""

    carrier_id: str
    carrier_name: str
    courier_id: str
    ratecard_id: int
    slab_grams: int
    freight_per_slab: Decimal
    cod_charge: Decimal
    cod_percent: Decimal
    cod_threshold: Decimal
    slab_id: int
    air: bool = False


def default_ratecards() -> list[Ratecard]:
    return [
        Ratecard("delhivery_2kg_surface", "Delhivery 2kg Surface", "delhivery_surface", 60, 2000, Decimal(124),
                 Decimal(38), Decimal(2), Decimal(1700), 265),
        Ratecard("xpressbees_air", "Xpressbees Air", "xpressbees_air", 61, 500, Decimal(70), Decimal(35),
                 Decimal("1.5"), Decimal(1500), 270, air=True),
    ]


def zone_for(source: str, destination: str) -> str:
    """Seed §12: zone by city → state → metro → fallback D; pincode prefixes stand in for the rules table."""
    if source[:3] == destination[:3]:
        return "A"
    if source[:2] == destination[:2]:
        return "B"
    if source[:1] == destination[:1]:
        return "C"
    return "D"


def cod_charge(card: Ratecard, order_value: Decimal) -> Decimal:
    """Seed §12 "COD Charge Formula": nothing up to the threshold, else max(flat, percent of value)."""
    if order_value <= card.cod_threshold:
        return Decimal(0)
    return rupees(max(card.cod_charge, order_value * card.cod_percent / 100))


def quote(card: Ratecard, weight_grams: int, order_value: Decimal, cod: bool) -> dict[str, Decimal]:
    slabs = max(1, -(-weight_grams // card.slab_grams))  # freight × weight multiplier (seed §12)
    freight = rupees(card.freight_per_slab * slabs)
    cod_fee = cod_charge(card, order_value) if cod else Decimal(0)
    return {"freight_charges": freight, "cod_charges": cod_fee, "cost": freight + cod_fee}


class ShipleeSim:
    """State and test controls of one simulated Shiplee seller account.

    `orders[id]` (id = customer_info.id, what book_shipment and cancel take) holds the create_order body
    fields, `status` (new → booked → manifested → ...; cancelled), `awb_number`, `carrier`, `zone`,
    `charges`, `warehouse_id`, `order_date` (IST) and `charge_weight_grams`.
    `calls` records every request as (METHOD, path), faulted ones included; `login_count` counts
    successful logins only."""

    def __init__(self, mobile: str = "6393538851", password: str = "Test@123",
                 token_ttl_seconds: int = 10800) -> None:
        self.mobile = mobile
        self.password = password
        self.token_ttl_seconds = token_ttl_seconds
        self.base_url = ""  # where the app is served, for whoever starts the server to fill in
        self.faults = FaultBox()
        self.lock = threading.RLock()  # the server thread and the test thread both touch the state
        self._tokens: dict[str, datetime] = {}
        # Ids keep counting across reset() so ids from an earlier test never reappear.
        self._order_ids = itertools.count(1085)
        self._awbs = itertools.count(143900012345, 7919)
        self._ids = itertools.count(201)
        self.reset()

    def reset(self) -> None:
        """Forget orders, money, knobs and faults. Issued tokens stay valid (a client's cached token
        survives between tests); expire_tokens() forces a re-login."""
        with self.lock:
            self.calls: list[tuple[str, str]] = []
            self.login_count = 0
            self.account_status = "active"  # "blocked"/"pending": login answers 403 (seed §1)
            self.email_verified = True
            self.agreement_id = 3
            self.agreement_accepted = True
            self.wallet = Decimal(5000)
            self.ratecards = default_ratecards()
            self.unserviceable_pincodes: set[str] = set()
            self.rate_origins: list[str] = []  # source_pincode of every valid rates request, in order
            self.courier_failures = 0  # next N bookings fail at the courier API (seed §12 step 9: 500)
            self.warehouses: list[dict[str, Any]] = [
                {"id": 1, "nickname": "Delhi HQ", "address1": "123 Main Street", "address2": "Near Metro",
                 "pincode": "110001", "city": "New Delhi", "state": "Delhi", "mobile_number": "9876543210",
                 "address_type": "primary", "express_hub_id": "EXP_HUB_001", "economy_hub_id": "ECO_HUB_001",
                 "created_at": "2026-01-15 10:30:00"},
                {"id": 2, "nickname": "Mumbai Warehouse", "address1": "456 Park Lane",
                 "address2": "Shiplee-partner", "pincode": "400001", "city": "Mumbai", "state": "Maharashtra",
                 "mobile_number": "9123456789", "address_type": "secondary", "express_hub_id": "EXP_HUB_002",
                 "economy_hub_id": "ECO_HUB_002", "created_at": "2026-02-01 09:00:00"},
            ]
            self.orders: dict[int, dict[str, Any]] = {}
            self.remittances: list[dict[str, Any]] = []
            self.disputes: list[dict[str, Any]] = []
            self.manifests_served = 0
            self.clock: Callable[[], datetime] = now_ist
            self.faults.reset()

    # --- tokens (seed §1: JWT bearer, expires_in 10800) ------------------------------------------------

    def mint_token(self) -> str:
        token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(24)
        self._tokens[token] = self.clock() + timedelta(seconds=self.token_ttl_seconds)
        return token

    def token_valid(self, token: str) -> bool:
        expiry = self._tokens.get(token)
        return expiry is not None and self.clock() < expiry

    def expire_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    # --- knobs -----------------------------------------------------------------------------------------

    def publish_agreement(self, agreement_id: int | None = None) -> None:
        """A new version of the terms goes live: every protected call is refused until it is accepted."""
        with self.lock:
            self.agreement_id = agreement_id or self.agreement_id + 1
            self.agreement_accepted = False

    def add_remittance(self, awbs: list[str], cod_amount: Decimal, *, status: str = "pending",
                       remittance_date: date | None = None, utr: str | None = None) -> dict[str, Any]:
        """A grouped remittance row as seed §17a shows it: 0.5% fee plus 18% GST on the fee."""
        base = rupees(cod_amount * Decimal("0.005"))
        gst = rupees(base * Decimal("0.18"))
        ids = [next(self._ids) for _ in awbs]
        day = remittance_date or self.clock().date()
        row = {"remittance_ids": ",".join(map(str, ids)), "awbs": ",".join(awbs),
               "total_cod_amount": cod_amount, "total_net_remittance": cod_amount - base - gst,
               "total_base_charge": base, "total_gst_component": gst, "remittance_status": status,
               "remittance_date": day.isoformat(), "tat_days": 7, "fee_percentage": Decimal("0.5"),
               "utr_number": utr, "wallet_convertible": status == "pending" and day <= self.clock().date(),
               "days_until_eligible": max(0, (day - self.clock().date()).days) or None}
        with self.lock:
            self.remittances.append(row)
        return row

    def add_dispute(self, awb: str, booked_grams: int, applied_grams: int, charges: Decimal,
                    created_at: datetime | None = None) -> dict[str, Any]:
        order = self.order_by_awb(awb) or {}
        row = {"id": next(self._ids), "order_id": order.get("order_id", ""), "awb_number": awb,
               "carrier": order.get("carrier", ""), "chargeable_booked_weight": booked_grams,
               "chargeable_applied_weight": applied_grams, "difference": applied_grams - booked_grams,
               "upcoming_charges": charges, "status": "DISPUTE", "image_url": "https://cdn.shiplee.test/d.jpg",
               "seller_response": None, "new_weight": None, "auto_accepted": False,
               "created_at": (created_at or self.clock()).astimezone(IST)}
        with self.lock:
            self.disputes.append(row)
        return row

    # --- the courier's part ------------------------------------------------------------------------------

    def order_by_awb(self, awb: str) -> dict[str, Any] | None:
        return next((o for o in self.orders.values() if o.get("awb_number") == awb), None)

    def advance(self, awb: str, status: str) -> dict[str, Any]:
        """Move a booked shipment on (`manifested`, `in_transit`, `delivered`, `rto`...). A delivered COD
        parcel gets a pending remittance row dated D+7, as the seller's Standard D+7 plan would."""
        with self.lock:
            order = self.order_by_awb(awb)
            if order is None:
                raise KeyError(awb)
            order["status"] = status
            if status == "delivered" and order["payment_type"] == "cod":
                self.add_remittance([awb], Decimal(str(order["total_price"])),
                                    remittance_date=self.clock().date() + timedelta(days=7))
            return order

    def next_order_id(self) -> int:
        return next(self._order_ids)

    def next_awb(self) -> str:
        return str(next(self._awbs))
