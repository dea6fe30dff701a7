"""Shiplee's REST API (SHIPLEE_BASE_URL + /api/...): I/O only (mapping lives in mapping.py). One login
shared by every process (SharedToken), a re-login exactly once on a 401, errors that quote Shiplee's own
message, and the agreement gate turned into one alert and a typed error, never a retry loop.

What Shiplee lacks next to the Aggregator protocol: no pickup request (the seed has only pickup dates
on /api/home), no label endpoint, no tracking API or webhook (status is polled with search_orders), no
NDR action, no return booking (§9 only lists reverse orders made in its panel), no courier numeric ids
(carrier_id strings). What it lacks raises UnsupportedByAggregator. See docs/shiplee.md."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import alert_open, raise_alert, resolve_alerts
from app.integrations.aggregator import (
    Address,
    AwbAssignment,
    AwbAssignmentFailed,
    CreatedOrder,
    Manifest,
    PickupRequest,
    ReturnOrder,
    Serviceability,
    ShipOrder,
    StepNotOffered,
)
from app.integrations.http import (
    PermanentUpstreamError,
    RetryPolicy,
    UpstreamAuthError,
    UpstreamError,
    parse_body,
    request_with_retries,
    upstream_message,
)
from app.integrations.paths import checked_path
from app.integrations.shiplee import mapping
from app.integrations.shiplee.models import (
    ShipleeAgreement,
    ShipleeAgreementRequired,
    ShipleeBooking,
    ShipleeCancellation,
    ShipleeEmailNotVerified,
    ShipleeInsufficientBalance,
    ShipleeManifest,
    ShipleeNotServiceable,
    ShipleeOrderRow,
    ShipleeQuote,
    ShipleeRemittances,
    ShipleeShipmentStatus,
    ShipleeWarehouse,
    ShipleeWeightDispute,
)
from app.integrations.shipping import (
    AccountActionRequired,
    OrderRemittance,
    RemittanceListing,
    TrackingUpdate,
    UnsupportedByAggregator,
    WeightDispute,
)
from app.integrations.tokens import SharedToken
from app.money import lenient_amount
from app.settings import Settings

SERVICE = "shiplee"
GATE_ALERT = "shiplee_agreement_required"  # one per agreement version; open = the gate is closed
MANIFEST_MAX = 500  # §25: at most 500 order ids a manifest
MIN_WALLET = Decimal(500)  # §12 step 5: book_shipment refuses below ₹500 (402 INSUFFICIENT_BALANCE)

log = logging.getLogger("shipbridge.shiplee")


class ShipleeClient:
    name = SERVICE
    pushes_tracking = False  # no webhook: open parcels are polled on every tracking poll
    track_batch = 20  # one search_orders call per AWB; a batch is only how often the poller checks in
    # No guard against a repeated create_order with our order id (§29): fulfilment looks the order up
    # with find_order before creating, never creates blind.
    duplicate_guard = False

    def __init__(self, http: httpx.AsyncClient, settings: Settings,
                 sessionmaker: async_sessionmaker[AsyncSession], policy: RetryPolicy) -> None:
        self._http = http
        self._base = settings.SHIPLEE_BASE_URL.rstrip("/")
        self._mobile = settings.SHIPLEE_MOBILE
        self._password = settings.SHIPLEE_PASSWORD
        self.warehouse_id = settings.SHIPLEE_WAREHOUSE_ID
        self._policy = policy
        self._sessionmaker = sessionmaker
        self.token = SharedToken(SERVICE, sessionmaker, self._login,
                                 timedelta(seconds=settings.SHIPLEE_TOKEN_REFRESH_MARGIN_SECONDS))
        # Set when the agreement gate refused a call in this process. Other processes learn it from the
        # open shiplee_agreement_required alert (Postgres): blocked() then asks the exempt
        # GET /api/agreement instead of sending work into the gate again.
        self._gated = False
        # SHIPLEE_WAREHOUSE_ID's pincode, read once per process: a warehouse's address does not move
        # under a running deployment, and every quote needs it.
        self._origin: str | None = None

    async def _login(self) -> tuple[str, datetime]:
        """§1. A 401 (bad credentials) or 403 (account pending or blocked) is a credentials problem."""
        response = await request_with_retries(
            self._http, SERVICE, "POST", f"{self._base}/api/login", policy=self._policy,
            json_body={"mobile": self._mobile, "password": self._password.get_secret_value()})
        body = parse_body(response)
        token = (body.get("access_token") or body.get("token")) if isinstance(body, dict) else None
        if response.status_code != 200 or not token:
            raise UpstreamAuthError(SERVICE, f"login refused: {upstream_message(response)}",
                                    status=response.status_code)
        return str(token), mapping.token_expiry(body)

    async def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                   json_body: Any = None, retry_uncertain: bool = True) -> httpx.Response:
        checked_path(SERVICE, path)  # ids in it came from outside: never let one redirect the call
        token = await self.token.get()
        for attempt in range(2):
            response = await request_with_retries(
                self._http, SERVICE, method, f"{self._base}{path}", policy=self._policy,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                params=params, json_body=json_body, retry_uncertain=retry_uncertain)
            if response.status_code == 403:
                await self._gate(method, path, response)
            if response.status_code != 401:
                return response
            if attempt == 0:  # expired (3-hour tokens) or revoked: log in again once, then give up
                token = await self.token.invalidate(token)
        raise UpstreamAuthError(SERVICE, upstream_message(response), status=401)

    async def _gate(self, method: str, path: str, response: httpx.Response) -> None:
        body = parse_body(response)
        code = body.get("error_code") if isinstance(body, dict) else None
        if code == "AGREEMENT_REQUIRED":
            self._gated = True
            agreement = await self._pending_agreement()
            key = agreement.agreement_id or "current"
            async with self._sessionmaker.begin() as session:
                await raise_alert(session, kind=GATE_ALERT, key=key, message=(
                    f"Shiplee refuses every call ({method} {path}) until its terms are accepted"
                    f"{': ' + agreement.title if agreement.title else ''} (agreement {key}). Log in to Shiplee "
                    "and accept them; Shiplee work waits until then."))
            raise ShipleeAgreementRequired(SERVICE, upstream_message(response), status=403, code=code, body=body)
        if code == "EMAIL_NOT_VERIFIED":
            raise ShipleeEmailNotVerified(SERVICE, upstream_message(response), status=403, code=code, body=body)

    async def _pending_agreement(self) -> ShipleeAgreement:
        """Which terms wait (GET /api/agreement is exempt from the gate); best effort, for the alert."""
        try:
            return await self.agreement()
        except PermanentUpstreamError:
            return ShipleeAgreement(required=True)

    @staticmethod
    def _refused(response: httpx.Response) -> PermanentUpstreamError:
        body = parse_body(response)
        code = body.get("error_code") if isinstance(body, dict) else None
        return PermanentUpstreamError(SERVICE, upstream_message(response), status=response.status_code, code=code,
                                      body=body)

    async def _json_ok(self, method: str, path: str, **kw: Any) -> Any:
        response = await self.call(method, path, **kw)
        if response.status_code != 200:
            raise self._refused(response)
        return parse_body(response)

    # --- account ---------------------------------------------------------------------------------------

    async def agreement(self) -> ShipleeAgreement:
        return mapping.agreement(await self._json_ok("GET", "/api/agreement"))

    async def accept_agreement(self, agreement_id: str) -> None:
        """§8b. A legal acceptance by the seller: for an operator's explicit command, never automatic."""
        await self._json_ok("POST", "/api/agreement", json_body={"action": "accept", "agreement_id": int(agreement_id)})

    async def wallet_balance(self) -> Decimal:
        body = await self._json_ok("GET", "/api/home")
        user = ((body or {}).get("data") or {}).get("user") or {}
        return lenient_amount(user.get("wallet_balance"))

    async def warehouses(self) -> tuple[ShipleeWarehouse, ...]:
        return mapping.warehouses(await self._json_ok("GET", "/api/warehouse"))

    async def origin_pincode(self, fallback: str) -> str:
        """The pincode of SHIPLEE_WAREHOUSE_ID, where Shiplee's couriers collect: quotes priced from
        anywhere else are for the wrong lane. Read once per process; while the listing cannot be read
        (refused or down) `fallback` (SHIPROCKET_PICKUP_PINCODE) is used, with a warning, and the next
        quote tries again. A SHIPLEE_WAREHOUSE_ID the account does not have is a setting to fix, not a
        lane to guess: book_shipment would refuse the warehouse after the order was created, so the quote
        is refused here and routing moves on to the next aggregator (`shipbridge doctor` names the valid
        ids). The seller's action (agreement, e-mail) and our credentials are raised as they are."""
        if self._origin is not None:
            return self._origin
        try:
            listed = await self.warehouses()
        except (AccountActionRequired, UpstreamAuthError):
            raise
        except UpstreamError as exc:
            log.warning("Shiplee warehouses unreadable (%s); quoting from %s instead", exc.upstream_message,
                        fallback)
            return fallback
        wanted = self.warehouse_id.strip()
        pincode = next((w.pincode for w in listed if w.warehouse_id == wanted), "")
        if not (len(pincode) == 6 and pincode.isdigit()):
            raise PermanentUpstreamError(SERVICE, f"SHIPLEE_WAREHOUSE_ID {wanted!r} is not one of the account's "
                                                  "warehouses with a pincode (GET /api/warehouse; run shipbridge "
                                                  "doctor)")
        self._origin = pincode
        return pincode

    async def account_blocker(self) -> str | None:
        """Why Shiplee would refuse a booking now, asked without making one: the agreement (GET
        /api/agreement, exempt from the gate), then the wallet against §12's ₹500 minimum. None: ready.
        An unverified e-mail, or either call refused, raises (the caller keeps waiting)."""
        agreement = await self.agreement()
        if agreement.required:
            return f"Shiplee's agreement {agreement.agreement_id or ''} is not accepted yet".replace("  ", " ")
        balance = await self.wallet_balance()
        if balance < MIN_WALLET:
            return f"Shiplee wallet ₹{balance} is below the ₹{MIN_WALLET} booking minimum"
        return None

    # --- quote and book --------------------------------------------------------------------------------

    async def quotes(self, order: ShipOrder, source_pincode: str) -> tuple[ShipleeQuote, ...]:
        """§4, cheapest first; () when no courier serves the lane (404)."""
        response = await self.call("POST", "/api/rates", json_body=mapping.rates_payload(order, source_pincode))
        if response.status_code == 404:
            return ()
        if response.status_code != 200:
            raise self._refused(response)
        return mapping.parse_quotes(parse_body(response))

    async def check_serviceability(self, order: ShipOrder, pickup_pincode: str) -> Serviceability:
        """`pickup_pincode` is Shiprocket's pickup: Shiplee's parcels leave from its own warehouse."""
        return mapping.serviceability(await self.quotes(order, await self.origin_pincode(pickup_pincode)))

    async def create_order(self, order: ShipOrder, channel_order_id: str) -> CreatedOrder:
        """§29. The seed documents no duplicate guard on our order id, so a create that may have gone
        through (timeout, 5xx after sending) is not retried here: it raises RetryableUpstreamError and the
        caller looks the order up with find_order before creating again (the booking is guarded, §12)."""
        response = await self.call("POST", "/api/create_order", retry_uncertain=False,
                                   json_body=mapping.create_order_payload(order, channel_order_id))
        created = mapping.parse_created_order(parse_body(response)) if response.status_code == 200 else None
        if created is None:
            raise self._refused(response)
        return created

    async def find_order(self, channel_order_id: str) -> CreatedOrder | None:
        """An unbooked order by our own id (§26 lists `new` orders only; default window 90 days)."""
        for row in await self.new_orders():
            if row.channel_order_id == channel_order_id:
                return CreatedOrder(order_id=row.order_id, shipment_id=row.order_id, status=row.status,
                                    reused_existing=True)
        return None

    async def book(self, order_id: str, quote: ShipleeQuote, warehouse_id: str | None = None) -> ShipleeBooking:
        """§12: order + AWB in one call. A repeat answers 409 ALREADY_BOOKED with the AWB (already_booked)."""
        return await self.book_carrier(order_id, quote.carrier_id, quote.carrier_name, warehouse_id)

    async def book_carrier(self, order_id: str, carrier_id: str, carrier_name: str = "",
                           warehouse_id: str | None = None) -> ShipleeBooking:
        """book() by the carrier's key alone: carrier_name is optional in §12 (a fallback for matching)."""
        payload: dict[str, Any] = {"carrier_id": carrier_id, "order_id": int(order_id),
                                   "warehouse_id": int(warehouse_id or self.warehouse_id)}
        if carrier_name:
            payload["carrier_name"] = carrier_name
        response = await self.call("POST", "/api/book_shipment", json_body=payload)
        body = parse_body(response)
        booking = mapping.parse_booking(order_id, response.status_code, body)
        if booking is not None:
            return booking
        code = body.get("error_code") if isinstance(body, dict) else None
        if code == "INSUFFICIENT_BALANCE":
            raise ShipleeInsufficientBalance(SERVICE, upstream_message(response), status=response.status_code,
                                             code=code, body=body)
        if code == "NOT_SERVICEABLE":
            raise ShipleeNotServiceable(SERVICE, upstream_message(response), status=response.status_code,
                                        code=code, body=body)
        raise self._refused(response)

    async def assign_awb(self, shipment_id: str, courier_id: str | None) -> AwbAssignment:
        """The Aggregator's AWB step is Shiplee's book_shipment with the chosen carrier (Shiplee has one id
        for order and shipment). Safe to repeat: a booked order answers 409 ALREADY_BOOKED with its AWB."""
        if not courier_id:
            raise AwbAssignmentFailed(SERVICE, "Shiplee books only with a chosen carrier_id")
        booking = await self.book_carrier(shipment_id, courier_id)
        return AwbAssignment(awb=booking.awb, courier_id=courier_id, courier_name=booking.carrier_name)

    async def shipment_awb(self, order_id: str, shipment_id: str) -> AwbAssignment | None:
        """Never needed: assign_awb never raises AwbAlreadyAssigned, because the repeat's 409 carries the AWB."""
        return None

    async def request_pickup(self, shipment_id: str) -> PickupRequest:
        raise StepNotOffered("Shiplee has no pickup request API: its courier collects booked parcels from the "
                             "warehouse on Shiplee's own pickup schedule")

    async def generate_label(self, shipment_id: str) -> str:
        raise StepNotOffered("Shiplee has no label API: print the label from Shiplee's panel")

    async def generate_manifest(self, shipment_id: str, order_id: str) -> Manifest:
        """No call makes a Shiplee manifest: Shiplee manifests booked parcels itself, and §25 only serves
        the PDF of those it has (404 before), behind our token, so its URL is no link for a person either.
        Asking right after booking only ever met the 404 (or downloaded a PDF to throw away): the step is
        recorded as skipped, and `manifest()` reads the PDF when someone needs it."""
        raise StepNotOffered("Shiplee manifests booked parcels itself (no API call makes one); print the "
                             "manifest from Shiplee's panel")

    # --- cancel ----------------------------------------------------------------------------------------

    async def cancel_orders(self, order_ids: list[str]) -> ShipleeCancellation:
        """§14: unbooked (`new`) orders. None cancellable is a 422 whose body may still carry the report."""
        response = await self.call("POST", "/api/cancel_orders", json_body={"order_ids": [int(i) for i in order_ids]})
        body = parse_body(response)
        if response.status_code in (200, 422) and isinstance(body, dict):
            return mapping.parse_cancel_orders(body)  # a 422 without the report parses as nothing done
        raise self._refused(response)

    async def cancel_shipments(self, order_ids: list[str], *, rebook: bool = False) -> ShipleeCancellation:
        """§15: booked or manifested shipments, refunded to the wallet. `rebook`: the order returns to
        `new` (to book with another courier) instead of `cancelled`."""
        response = await self.call("POST", "/api/cancel_shipments", json_body={
            "order_ids": [int(i) for i in order_ids], "action": "cancel" if rebook else "delete"})
        body = parse_body(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise self._refused(response)
        balance = body.get("wallet_balance")
        return ShipleeCancellation(cancelled=tuple(order_ids),
                                   wallet_balance=None if balance is None else lenient_amount(balance))

    async def cancel(self, order_ids: list[str]) -> None:
        """Cancel orders not yet picked up, booked or not: unbooked ones with cancel_orders, booked and
        manifested ones with cancel_shipments; anything further along is refused (PermanentUpstreamError)."""
        result = await self.cancel_orders(order_ids)
        if not result.cancelled and not result.refused and not result.not_found:
            # a bare 422 "no cancellable orders": they may all be booked, which cancel_shipments handles
            await self.cancel_shipments(order_ids)
            return
        booked = [oid for oid, status in result.refused if status in ("booked", "manifested")]
        if booked:
            await self.cancel_shipments(booked)
        beyond = [f"{oid} ({status})" for oid, status in result.refused if oid not in booked]
        if beyond or result.not_found:
            raise PermanentUpstreamError(SERVICE, "not cancellable: " + ", ".join(
                beyond + [f"{oid} (not found)" for oid in result.not_found]))

    # --- status, manifest, money -----------------------------------------------------------------------

    async def new_orders(self, start: date | None = None, end: date | None = None) -> tuple[ShipleeOrderRow, ...]:
        payload = {k: v.isoformat() for k, v in (("start_date", start), ("end_date", end)) if v}
        return mapping.order_rows(await self._json_ok("POST", "/api/get_orders", json_body=payload))

    async def search(self, term: str) -> tuple[ShipleeShipmentStatus, ...]:
        """§27: booked orders matching an AWB, name or mobile (≥ 3 characters, at most 20 rows)."""
        return mapping.shipment_statuses(await self._json_ok("POST", "/api/search_orders", json_body={"search": term}))

    async def shipment_status(self, awb: str) -> ShipleeShipmentStatus | None:
        """The status of one parcel: Shiplee has no tracking API, so search by AWB and keep the exact match."""
        return next((row for row in await self.search(awb) if row.awb == awb), None)

    async def manifest(self, order_ids: list[str], warehouse_id: str | None = None) -> ShipleeManifest:
        """§25: a PDF for manifested orders (Shiplee moves them there; the seed has no call to do it)."""
        if not order_ids or len(order_ids) > MANIFEST_MAX:
            raise ValueError(f"a manifest takes 1..{MANIFEST_MAX} orders, not {len(order_ids)}")
        params = {"order_ids": ",".join(order_ids)}
        if warehouse_id or self.warehouse_id:
            params["warehouse_id"] = str(warehouse_id or self.warehouse_id)
        response = await self.call("GET", "/api/manifest", params=params)
        if response.status_code != 200 or not response.content.startswith(b"%PDF"):
            raise self._refused(response)
        disposition = response.headers.get("content-disposition", "")
        filename = disposition.split("filename=")[-1].strip('"') if "filename=" in disposition else "manifest.pdf"
        return ShipleeManifest(pdf=response.content, filename=filename)

    async def remittance_listing(self) -> ShipleeRemittances:
        """§17a: the whole remittance listing (the seed shows no date filter or paging)."""
        return mapping.remittances(await self._json_ok("GET", "/api/cod_remittance"))

    async def weight_dispute_rows(self, start: date | None = None, end: date | None = None) -> tuple[
            ShipleeWeightDispute, ...]:
        """§23a; Shiplee's default window is the last 7 days."""
        params = {k: v.isoformat() for k, v in (("start_date", start), ("end_date", end)) if v}
        return mapping.weight_disputes(await self._json_ok("GET", "/api/weight_disputes", params=params))

    # --- the Aggregator protocol's after-booking half ----------------------------------------------------

    async def track(self, awbs: list[str]) -> dict[str, TrackingUpdate]:
        """Each AWB's status from search_orders (no tracking API), dated now; unknown AWBs are left out."""
        if len(awbs) > self.track_batch:
            raise ValueError(f"track takes at most {self.track_batch} AWBs a call, not {len(awbs)}")
        now = datetime.now(UTC)
        found: dict[str, TrackingUpdate] = {}
        for awb in awbs:
            row = await self.shipment_status(awb)
            if row is not None:
                found[awb] = mapping.tracking_update(row, now)
        return found

    async def remittances(self, start: date, end: date) -> RemittanceListing:
        """§17a rows dated `start`..`end` (the listing is read whole and filtered: no date filter in the
        seed), itemised by AWB. A row that cannot be a batch is reported as unreadable."""
        listing = await self.remittance_listing()
        batches, unreadable = [], []
        for row in listing.rows:
            batch = None if row.unreadable else mapping.remittance_batch(row)
            if row.unreadable:
                unreadable.append(row.unreadable)
            elif batch is None:
                unreadable.append(f"{','.join(row.remittance_ids) or '?'}: no remittance ids, AWBs or date")
            elif start <= batch.remittance_date <= end:
                batches.append(batch)
        batches.sort(key=lambda b: (b.remittance_date, b.batch_id))
        return RemittanceListing(batches=tuple(batches), unreadable=tuple(unreadable))

    async def remittance_order(self, order_id: str) -> OrderRemittance | None:
        """Never needed: Shiplee's listing names the AWBs it paid."""
        return None

    async def weight_disputes(self, start: date, end: date) -> list[WeightDispute]:
        return [mapping.weight_dispute(row) for row in await self.weight_dispute_rows(start, end)]

    async def blocked(self) -> str | None:
        """While the agreement gate is known to be closed (refused here, or its alert still open: another
        process met it), look (GET /api/agreement is exempt) instead of calling into it: the alert is
        raised already, and no poller in any process must knock on the gate every run. Terms accepted:
        the alert is resolved, so every process goes back to work."""
        if not self._gated:
            async with self._sessionmaker() as session:
                if not await alert_open(session, GATE_ALERT):
                    return None
        try:
            agreement = await self.agreement()
        except UpstreamError as exc:
            return f"agreement status unreadable ({exc.upstream_message}); trying again next run"
        if agreement.required:
            self._gated = True
            return (f"waiting for Shiplee's agreement {agreement.agreement_id or ''} to be accepted in its panel"
                    .replace("  ", " "))
        self._gated = False
        async with self._sessionmaker.begin() as session:
            await resolve_alerts(session, GATE_ALERT, by="shipbridge: Shiplee's terms are accepted")
        return None

    async def create_return(self, order: ReturnOrder) -> CreatedOrder:
        raise UnsupportedByAggregator(SERVICE, "book a customer return (Reverse Orders)")

    async def pickup_address(self, location: str) -> Address | None:
        raise UnsupportedByAggregator(SERVICE, "book a customer return (Reverse Orders)")

    async def pickup_location(self, location: str) -> tuple[str, Address] | None:
        raise UnsupportedByAggregator(SERVICE, "book a customer return (Reverse Orders)")

    async def ndr_action(self, awb: str, action: str, comments: str) -> None:
        raise UnsupportedByAggregator(SERVICE, f"ask the courier to {action} undelivered AWB {awb} (NDR)")
