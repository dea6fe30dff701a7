"""An in-memory Shiprocket (apiv2 /v1/external) for tests and the sandbox demo.

Shiprocket has no sandbox: every call with real credentials moves real parcels and money. This
simulator reproduces the behaviours an integration must survive, taken from Shiprocket's own Postman
collection and public field reports (see /work/shared/reference/shiprocket-api-facts.md): 10-day JWTs
that die with a bare {"message":"Unauthenticated."}, errors inside HTTP 200s, the adhoc-create dedupe
that hands back an existing (even cancelled) order, two status numberings in one webhook, and COD
remittance that can only be pulled. Faults beyond those come from FaultBox.

The HTTP behaviours live in shiprocket_ops.py and the routes in shiprocket_routes.py; this class holds
the state, the knobs tests turn, and the lifecycle methods that play the courier's part.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from sandbox.faults import FaultBox
from sandbox.shiprocket_auth import TokenBook
from sandbox.shiprocket_couriers import default_couriers
from sandbox.shiprocket_format import as_ist, money, now_ist
from sandbox.shiprocket_remittance import new_batch
from sandbox.shiprocket_remittance import webhook_body as remittance_webhook_body
from sandbox.shiprocket_statuses import (
    ORDER_STATUS,
    POST_PICKUP,
    RTO_STATUSES,
    SHIPMENT_STATUS,
    order_status_for,
)
from sandbox.shiprocket_tracking import legacy_webhook_body as render_legacy
from sandbox.shiprocket_tracking import make_scan, webhook_body

__all__ = ["AWB_FAILURE_MODES", "ShiprocketSim"]

AWB_FAILURE_MODES = ("error_in_200", "http_400", "http_500")
DUPLICATE_MODES = ("existing_200", "error_422")
DEFAULT_AWB_FAILURE_MESSAGES = {
    "error_in_200": "Awb could not be generated for the selected courier. Please try again after some time.",
    "http_400": "Oops! Courier partner could not generate the AWB. Please try again.",
    "http_500": "Something went wrong. Please try again later.",
}


class ShiprocketSim:
    """State and test controls of one simulated Shiprocket account.

    `orders[sr_order_id]` holds: order_id (Shiprocket's), shipment_id, channel_order_id, channel_id,
    is_return (0/1), status/status_code (order scheme §5A), payment_method ("COD"/"Prepaid"), total
    (Decimal, the collectable amount), awb_code, courier_company_id, courier_name, created_at/updated_at,
    remittance_date/remittance_utr/remittance_status/remittance_id once remitted, and `payload` (the
    request body as received).
    `shipments[shipment_id]` holds: shipment_id, order_id, awb, courier_company_id, courier_name,
    status_id/status_label (shipment scheme §5B; None before an AWB), scans (oldest first), the dates
    (awb_assigned_at, pickup_scheduled_at, pickup_generated_at, pickup_date, delivered_date,
    rto_initiated_date, rto_delivered_date), etd, is_rto, is_return, cod, weight, dims, the charges
    applied at AWB time, label_url/manifest_url once generated, and the route (pickup_pincode,
    delivery_pincode, origin, destination).
    `calls` records every request as (METHOD, path below /v1/external), faulted ones included;
    `login_count` counts successful logins only.
    """

    def __init__(self, email: str = "api@seller.test", password: str = "secret-password",
                 pickup_locations: tuple[str, ...] = ("Primary Warehouse",), pickup_pincode: str = "400001",
                 token_ttl_seconds: int = 864000) -> None:
        self.email = email
        self.password = password
        self.pickup_locations = tuple(pickup_locations)
        self.pickup_pincode = pickup_pincode
        self.token_ttl_seconds = token_ttl_seconds
        self.company_id = 25149
        self.user_id = 2065762
        self.company_name = "Shipbridge Test Seller"
        self.channel_id = 3422553
        self.base_url = ""  # where the app is served, for whoever starts the server to fill in
        self.faults = FaultBox(strip_prefix="/v1/external")
        self.lock = threading.RLock()  # the server thread and the test thread both touch the state
        self.tokens = TokenBook(ttl_seconds=token_ttl_seconds, clock=lambda: self.clock(),
                                user_id=self.user_id, company_id=self.company_id)
        # Ids keep counting across reset() so ids from an earlier test never reappear.
        self._order_ids = itertools.count(348456385)
        self._shipment_ids = itertools.count(344856102, 3)
        self._awb_numbers = itertools.count(19041424751540, 7919)
        self._crf_ids = itertools.count(10816241)
        self._utr_numbers = itertools.count(32591126, 977)
        self.reset()

    def reset(self) -> None:
        """Forget orders, shipments, remittances, faults, knobs, the clock and counters. Issued tokens stay
        valid so a client's cached token survives between tests; call expire_tokens() to force a re-login."""
        with self.lock:
            self.calls: list[tuple[str, str]] = []
            self.login_count = 0
            self.orders: dict[int, dict[str, Any]] = {}
            self.shipments: dict[int, dict[str, Any]] = {}
            self.awb_index: dict[str, int] = {}
            self.remittances: list[dict[str, Any]] = []
            self.ndr_actions: list[dict[str, Any]] = []  # POST /ndr/{awb}/action bodies accepted
            self.unserviceable_pincodes: set[str] = set()
            self.duplicate_order_mode = "existing_200"
            self.couriers: list[dict[str, Any]] = default_couriers()
            self.awb_failures: deque[tuple[str, str]] = deque()
            self.manifest_count = 0
            # Tests may replace the clock (returning an aware datetime) to age tokens or date events.
            self.clock: Callable[[], datetime] = now_ist
            self.faults.reset()

    # --- knobs ---------------------------------------------------------------------------------------

    def fail_awb_assignments(self, times: int = 1, mode: str = "error_in_200",
                             message: str | None = None) -> None:
        """The next `times` assign-AWB calls on a valid, unassigned shipment fail and change nothing."""
        if mode not in AWB_FAILURE_MODES:
            raise ValueError(f"mode must be one of {AWB_FAILURE_MODES}")
        with self.lock:
            self.awb_failures.extend([(mode, message or DEFAULT_AWB_FAILURE_MESSAGES[mode])] * times)

    @property
    def duplicate_order_mode(self) -> str:
        """How adhoc create answers a known channel order_id: "existing_200" (HTTP 200 with the existing
        order's ids and status, as observed in 2026) or "error_422" (422 "The order id has already been
        taken.")."""
        return self._duplicate_order_mode

    @duplicate_order_mode.setter
    def duplicate_order_mode(self, mode: str) -> None:
        if mode not in DUPLICATE_MODES:
            raise ValueError(f"duplicate_order_mode must be one of {DUPLICATE_MODES}")
        self._duplicate_order_mode = mode

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.expire_all()

    # --- observation ---------------------------------------------------------------------------------

    def order_by_channel_id(self, channel_order_id: str) -> dict[str, Any] | None:
        return next((o for o in self.orders.values() if o["channel_order_id"] == channel_order_id), None)

    def shipment_by_awb(self, awb: str) -> dict[str, Any] | None:
        shipment_id = self.awb_index.get(str(awb))
        return None if shipment_id is None else self.shipments[shipment_id]

    # --- id sources used by the HTTP behaviours -------------------------------------------------------

    def next_order_id(self) -> int:
        return next(self._order_ids)

    def next_shipment_id(self) -> int:
        return next(self._shipment_ids)

    def next_awb(self) -> str:
        return str(next(self._awb_numbers))

    # --- tracking lifecycle --------------------------------------------------------------------------

    def _tracked(self, awb: str) -> tuple[dict[str, Any], dict[str, Any]]:
        shipment = self.shipment_by_awb(awb)
        if shipment is None:
            raise KeyError(f"no shipment has AWB {awb!r}")
        return self.orders[shipment["order_id"]], shipment

    def advance(self, awb: str, shipment_status_id: int, *, when: datetime | None = None,
                location: str = "Bhiwandi_Mega_GW (Maharashtra)") -> dict[str, Any]:
        """Play the courier: move the shipment to `shipment_status_id` (§5B), add a scan, update the order
        (§5A via the mapping table) and return the Sample-A webhook body Shiprocket would POST.
        Transition rules are not enforced, so tests can replay out-of-order or duplicate events, with one
        exception: a courier never collects a forward parcel whose pickup was never requested
        (`POST /courier/generate/pickup`), so Out for Pickup and anything after it raise until then."""
        if shipment_status_id not in SHIPMENT_STATUS:
            raise ValueError(f"{shipment_status_id} is not a Shiprocket shipment status id")
        with self.lock:
            order, shipment = self._tracked(awb)
            collected = shipment_status_id in POST_PICKUP or shipment_status_id == 19
            if collected and not order["is_return"] and shipment["pickup_generated_at"] is None:
                raise ValueError(f"AWB {awb}: no pickup was requested, so no courier can report "
                                 f"{SHIPMENT_STATUS[shipment_status_id]}")
            at = as_ist(when or self.clock())
            order_status = order_status_for(shipment_status_id, is_return=bool(order["is_return"]))
            shipment["scans"].append(make_scan(shipment_status_id, at, location))
            shipment["scans"].sort(key=lambda scan: scan["date"])
            shipment["status_id"] = shipment_status_id
            shipment["status_label"] = SHIPMENT_STATUS[shipment_status_id]
            if shipment_status_id in (42, 6) and shipment["pickup_date"] is None:
                shipment["pickup_date"] = at
            if shipment_status_id == 7:
                shipment["delivered_date"] = at
            if shipment_status_id in RTO_STATUSES:
                shipment["is_rto"] = True
                if shipment["rto_initiated_date"] is None:
                    shipment["rto_initiated_date"] = at
            if shipment_status_id == 10:
                shipment["rto_delivered_date"] = at
            order.update(status_code=order_status, status=ORDER_STATUS[order_status], updated_at=at)
            return webhook_body(order, shipment, at)

    def legacy_webhook_body(self, awb: str) -> dict[str, Any]:
        """The shipment's current state in the older Sample-B webhook shape."""
        with self.lock:
            order, shipment = self._tracked(awb)
            return render_legacy(order, shipment)

    async def deliver_webhook(self, url: str, token: str, body: dict[str, Any] | bytes) -> httpx.Response:
        """POST a webhook the way Shiprocket does: JSON body, shared secret in `x-api-key`, no signature."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with httpx.AsyncClient(timeout=10.0) as client:
            return await client.post(url, content=content,
                                     headers={"x-api-key": token, "Content-Type": "application/json"})

    # --- remittance ----------------------------------------------------------------------------------

    def add_remittance(self, *, awbs: list[str], remittance_date: date,
                       deductions: dict[str, Decimal] | None = None, remittance_id: str | None = None,
                       utr: str | None = None) -> dict[str, Any]:
        """Remit a batch of delivered COD shipments and return the guide-style webhook body.

        The batch also appears in `GET /account/details/remittance` (crf_id = remittance_id when numeric,
        else the given string) and stamps remittance_date/utr/status on each order's `orders/show`. See
        shiprocket_remittance.py for how a poller rebuilds per-AWB lines. Raises ValueError for an AWB that
        is unknown, not a delivered forward COD shipment, already remitted, or listed twice.
        """
        deductions = deductions or {}
        with self.lock:
            lines, seen = [], set()
            for awb in awbs:
                order, shipment = self._tracked(str(awb))
                if awb in seen or order.get("remittance_id") is not None:
                    raise ValueError(f"AWB {awb} is already remitted")
                delivered_cod = order["payment_method"] == "COD" and shipment["delivered_date"] is not None
                if order["is_return"] or not delivered_cod:
                    raise ValueError(f"AWB {awb} is not a delivered COD shipment")
                seen.add(awb)
                lines.append({"awb": str(awb), "order_id": order["channel_order_id"],
                              "sr_order_id": order["order_id"],
                              "cod_amount": money(order["total"]),
                              "deducted_charges": money(Decimal(str(deductions.get(awb, 0))))})
            unknown = set(deductions) - seen
            if unknown:
                raise ValueError(f"deductions name AWBs outside the batch: {sorted(unknown)}")
            crf_id: int | str = next(self._crf_ids) if remittance_id is None else (
                int(remittance_id) if remittance_id.isdigit() else remittance_id)
            if any(str(b["crf_id"]) == str(crf_id) for b in self.remittances):
                raise ValueError(f"remittance {crf_id} already exists")
            utr = utr or f"ICICN2{remittance_date:%Y%m%d}{next(self._utr_numbers):08d}"
            batch = new_batch(crf_id=crf_id, remittance_id=str(crf_id), utr=utr,
                              remittance_date=remittance_date,
                              lines=lines)
            self.remittances.append(batch)
            for line in lines:
                order = self.orders[line["sr_order_id"]]
                order.update(remittance_id=str(crf_id), remittance_date=remittance_date, remittance_utr=utr,
                             remittance_status="Remitted")
            return remittance_webhook_body(batch)
