"""Shiprocket's REST API: I/O only (mapping lives in mapping.py). One login shared by every process
(SharedToken), a re-login exactly once on a 401, and errors that quote Shiprocket's own message."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.integrations.aggregator import (
    Address,
    AwbAssignment,
    CreatedOrder,
    DuplicateOrder,
    Manifest,
    PickupRequest,
    ReturnOrder,
    Serviceability,
    ShipOrder,
)
from app.integrations.http import (
    PermanentUpstreamError,
    RetryPolicy,
    UpstreamAuthError,
    parse_body,
    request_with_retries,
    upstream_message,
)
from app.integrations.paths import awb_id, checked_path, numeric_id
from app.integrations.shipping import (
    OrderRemittance,
    RemittanceBatch,
    RemittanceListing,
    TrackingUpdate,
    UnsupportedByAggregator,
    WeightDispute,
)
from app.integrations.shiprocket import dispatch, mapping, remittance, tracking
from app.integrations.tokens import SharedToken
from app.parsing import Malformed
from app.settings import Settings

SERVICE = "shiprocket"
TRACK_BATCH = 50  # Shiprocket's limit of AWBs per `POST /courier/track/awbs`
# The remittance listing wants "2025-May-01"; spelt out so the process locale can never change it.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def remittance_day(day: date) -> str:
    return f"{day.year:04d}-{MONTHS[day.month - 1]}-{day.day:02d}"


class ShiprocketClient:
    name = SERVICE
    pushes_tracking = True  # the tracking webhook; polling only catches what it missed
    track_batch = TRACK_BATCH
    duplicate_guard = True  # a repeated order id is answered with the existing order

    def __init__(self, http: httpx.AsyncClient, settings: Settings,
                 sessionmaker: async_sessionmaker[AsyncSession], policy: RetryPolicy) -> None:
        self._http = http
        self._base = settings.SHIPROCKET_BASE_URL.rstrip("/")
        self._email = settings.SHIPROCKET_EMAIL
        self._password = settings.SHIPROCKET_PASSWORD
        self._pickup_location = settings.SHIPROCKET_PICKUP_LOCATION
        self._policy = policy
        self.token = SharedToken(SERVICE, sessionmaker, self._login,
                                 timedelta(seconds=settings.SHIPROCKET_TOKEN_REFRESH_MARGIN_SECONDS))

    async def _login(self) -> tuple[str, datetime]:
        response = await request_with_retries(
            self._http, SERVICE, "POST", f"{self._base}/auth/login", policy=self._policy,
            json_body={"email": self._email, "password": self._password.get_secret_value()})
        body = parse_body(response)
        token = body.get("token") if isinstance(body, dict) else None
        if response.status_code != 200 or not token:
            raise UpstreamAuthError(SERVICE, f"login refused: {upstream_message(response)}",
                                    status=response.status_code)
        return str(token), mapping.token_expiry(str(token))

    async def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    json_body: Any = None) -> httpx.Response:
        checked_path(SERVICE, path)  # ids in it came from outside: never let one redirect the call
        token = await self.token.get()
        for attempt in range(2):
            response = await request_with_retries(
                self._http, SERVICE, method, f"{self._base}{path}", policy=self._policy,
                headers={"Authorization": f"Bearer {token}"}, params=params, json_body=json_body)
            if response.status_code != 401:
                return response
            if attempt == 0:  # expired or revoked: log in again once, then give up
                token = await self.token.invalidate(token)
        raise UpstreamAuthError(SERVICE, upstream_message(response), status=401)

    @staticmethod
    def _refused(response: httpx.Response) -> PermanentUpstreamError:
        return PermanentUpstreamError(SERVICE, upstream_message(response), status=response.status_code,
                                      body=parse_body(response))

    async def check_serviceability(self, order: ShipOrder, pickup_pincode: str) -> Serviceability:
        response = await self.call("GET", "/courier/serviceability/",
                                    params=mapping.serviceability_params(order, pickup_pincode))
        if response.status_code == 404:
            return Serviceability(options=())
        if response.status_code != 200:
            raise self._refused(response)
        return mapping.parse_serviceability(parse_body(response))

    async def create_order(self, order: ShipOrder, channel_order_id: str) -> CreatedOrder:
        payload = mapping.adhoc_order_payload(order, channel_order_id, self._pickup_location)
        response = await self.call("POST", "/orders/create/adhoc", json_body=payload)
        body = parse_body(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("order_id") and body.get("shipment_id"):
            return mapping.parse_created_order(body)
        if mapping.is_duplicate_order_error(body):
            raise DuplicateOrder(SERVICE, upstream_message(response), status=response.status_code, body=body)
        raise self._refused(response)

    async def find_order(self, channel_order_id: str) -> CreatedOrder | None:
        """Look an order up by our own order id (after Shiprocket refused it as a duplicate)."""
        response = await self.call("GET", "/orders", params={"search": channel_order_id, "per_page": 50})
        if response.status_code != 200:
            raise self._refused(response)
        body = parse_body(response) or {}
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise PermanentUpstreamError(SERVICE, "order search answered without a `data` list", status=200,
                                         body=body)
        for row in rows:
            if not isinstance(row, dict) or str(row.get("channel_order_id")) != channel_order_id:
                continue
            shipments = row.get("shipments") or [{}]
            first = shipments[0] if isinstance(shipments, list) and shipments else {}
            status = str(row.get("status") or "")
            return CreatedOrder(order_id=str(row["id"]), shipment_id=str(first.get("id") or ""),
                                status=status, awb=str(first["awb"]) if first.get("awb") else None,
                                courier_name=first.get("courier") or None, reused_existing=True,
                                cancelled=status.upper().startswith("CANCEL"))
        return None

    async def assign_awb(self, shipment_id: str, courier_id: str | None) -> AwbAssignment:
        payload: dict[str, Any] = {"shipment_id": int(shipment_id)}
        if courier_id is not None:
            payload["courier_id"] = int(courier_id)  # Shiprocket's ids are numbers; ours are strings
        response = await self.call("POST", "/courier/assign/awb", json_body=payload)
        body = parse_body(response)
        if body is None:
            raise self._refused(response)
        return mapping.parse_awb_assignment(body)

    async def shipment_awb(self, order_id: str, shipment_id: str) -> AwbAssignment | None:
        """The AWB Shiprocket already holds for a shipment, if any (used after 'AWB is already assigned').
        Read from the order itself: tracking knows nothing until the courier's first scan."""
        response = await self.call("GET", f"/orders/show/{numeric_id(SERVICE, order_id, 'order_id')}")
        if response.status_code != 200:
            return None
        body = parse_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        shipments = (data or {}).get("shipments")
        for ship in shipments if isinstance(shipments, list) else [shipments or {}]:
            if ship.get("awb") and str(ship.get("id") or shipment_id) == str(shipment_id):
                cid = str(ship.get("courier_id") or "")
                return AwbAssignment(awb=str(ship["awb"]), courier_id=cid or None,
                                     courier_name=str(ship.get("courier") or ""))
        return None

    async def request_pickup(self, shipment_id: str) -> PickupRequest:
        """`POST /courier/generate/pickup`, one shipment per call (Shiprocket's rule)."""
        response = await self.call("POST", "/courier/generate/pickup", json_body={"shipment_id": [int(shipment_id)]})
        pickup = dispatch.parse_pickup(response.status_code, parse_body(response))
        if pickup is None:
            raise self._refused(response)
        return pickup

    async def generate_label(self, shipment_id: str) -> str:
        response = await self.call("POST", "/courier/generate/label", json_body={"shipment_id": [int(shipment_id)]})
        body = parse_body(response)
        url = dispatch.parse_label(response.status_code, body)
        if url is None:
            if response.status_code == 200:
                raise PermanentUpstreamError(SERVICE, dispatch.label_refusal(body), status=200, body=body)
            raise self._refused(response)
        return url

    async def generate_manifest(self, shipment_id: str, order_id: str) -> Manifest:
        """`POST /manifests/generate`; a repeat answers 400 "already manifested" without the URL, which
        `POST /manifests/print` (by Shiprocket *order* id) then reads back."""
        response = await self.call("POST", "/manifests/generate", json_body={"shipment_id": [int(shipment_id)]})
        body = parse_body(response)
        result = dispatch.parse_manifest(response.status_code, body, shipment_id)
        if isinstance(result, Manifest):
            return result
        if result is None:
            if response.status_code == 200:
                raise PermanentUpstreamError(SERVICE, "manifest not generated (empty manifest_url)", status=200,
                                             body=body)
            raise self._refused(response)
        printed = await self.call("POST", "/manifests/print", json_body={"order_ids": [int(order_id)]})
        url = dispatch.parse_printed_manifest(printed.status_code, parse_body(printed))
        if url is None:
            raise self._refused(printed)
        return Manifest(url=url, already_generated=True)

    async def cancel(self, order_ids: list[str]) -> None:
        response = await self.call("POST", "/orders/cancel", json_body={"ids": [int(i) for i in order_ids]})
        if response.status_code not in (200, 202, 204):
            raise self._refused(response)

    async def ndr_action(self, awb: str, action: str, comments: str) -> None:
        """`POST /ndr/{awb}/action`: "re-attempt" or "return" (RTO) for an undelivered parcel. Shiprocket
        answers 202 (or 200), possibly with an empty body; repeats are not documented as idempotent, so
        callers record what they asked for and do not ask twice."""
        awb = awb_id(SERVICE, awb)
        response = await self.call("POST", f"/ndr/{awb}/action", json_body={"action": action, "comments": comments})
        if response.status_code not in (200, 202):
            raise self._refused(response)

    async def track(self, awbs: list[str]) -> dict[str, TrackingUpdate]:
        """The latest tracking of up to TRACK_BATCH AWBs, keyed by AWB; an AWB Shiprocket has nothing for
        yet is left out. More AWBs is a caller's bug, never silently cut."""
        answer = await self.track_raw(awbs)
        found = {awb: tracking.tracking_update(awb, answer.get(awb)) for awb in awbs}
        return {awb: update for awb, update in found.items() if update is not None}

    async def track_raw(self, awbs: list[str]) -> dict[str, Any]:
        """`POST /courier/track/awbs` as sent, keyed by AWB."""
        if len(awbs) > TRACK_BATCH:
            raise ValueError(f"track takes at most {TRACK_BATCH} AWBs a call, not {len(awbs)}")
        response = await self.call("POST", "/courier/track/awbs", json_body={"awbs": awbs})
        if response.status_code != 200:
            raise self._refused(response)
        body = parse_body(response)
        return body if isinstance(body, dict) else {}

    async def create_return(self, order: ReturnOrder) -> CreatedOrder:
        """`POST /orders/create/return`: pickup_* is the customer, shipping_* our warehouse. A repeated
        order id answers 422 "already been taken" (DuplicateOrder; find it with find_order)."""
        response = await self.call("POST", "/orders/create/return", json_body=mapping.return_order_payload(order))
        body = parse_body(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("order_id") and body.get("shipment_id"):
            return mapping.parse_created_order({**body, "status_code": None})
        if mapping.is_duplicate_order_error(body):
            raise DuplicateOrder(SERVICE, upstream_message(response), status=response.status_code, body=body)
        raise self._refused(response)

    async def pickup_address(self, location: str) -> Address | None:
        """The address of a pickup location (`GET /settings/company/pickup`), matched by its exact nickname."""
        response = await self.call("GET", "/settings/company/pickup")
        if response.status_code != 200:
            raise self._refused(response)
        return mapping.parse_pickup_address(parse_body(response), location)

    async def pickup_location(self, location: str) -> tuple[str, Address] | None:
        """(id, address) of a pickup location: return orders name their warehouse by id as well."""
        response = await self.call("GET", "/settings/company/pickup")
        if response.status_code != 200:
            raise self._refused(response)
        return mapping.parse_pickup_location(parse_body(response), location)

    async def remittances(self, start: date, end: date) -> RemittanceListing:
        """Every batch dated `start`..`end` with a UTR, read in 28-day windows and pages. The listing has
        totals only (`itemised` False): which orders a batch paid is read with remittance_order."""
        batches: dict[str, RemittanceBatch] = {}
        unreadable: list[str] = []
        for window_start, window_end in remittance.windows(start, end):
            for page in range(1, remittance.MAX_PAGES + 1):
                body = await self.remittance_page(window_start, window_end, page, remittance.PAGE_SIZE)
                for row in body.get("data") or []:
                    if not isinstance(row, dict):
                        continue
                    try:
                        batch = remittance.parse_batch(row)
                    except Malformed as exc:
                        unreadable.append(f"{row.get('crf_id') or '?'}: {exc}")
                        continue
                    if batch is not None:
                        batches.setdefault(batch.batch_id, batch)
                if remittance.last_page(body, page):
                    break
        ordered = sorted(batches.values(), key=lambda b: (b.remittance_date, b.batch_id))
        return RemittanceListing(batches=tuple(ordered), unreadable=tuple(unreadable))

    async def remittance_page(self, start: date, end: date, page: int = 1, per_page: int = 100) -> dict[str, Any]:
        """One page of the COD remittance listing (`GET /account/details/remittance`): batch totals and
        UTRs of batches dated `start`..`end`, as sent (`data[]`, `meta.pagination`)."""
        response = await self.call("GET", "/account/details/remittance", params={
            "from": remittance_day(start), "to": remittance_day(end), "page": page, "per_page": per_page})
        body = parse_body(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise self._refused(response)
        return body

    async def remittance_order(self, order_id: str) -> OrderRemittance | None:
        """Which batch (UTR) paid one order, and its COD amount (`net_total`); None when Shiprocket does
        not know the order. Malformed when its amount is unreadable."""
        data = await self.order_show(order_id)
        return None if data is None else remittance.parse_order_remittance(data)

    async def weight_disputes(self, start: date, end: date) -> list[WeightDispute]:
        """Shiprocket lists weight discrepancies at `GET /billing/discrepancy`, but no source shows one
        populated row (after-AWB facts §10), so there is nothing faithful to map: refused, not guessed."""
        raise UnsupportedByAggregator(SERVICE, "list weight disputes in a documented shape")

    async def blocked(self) -> str | None:
        """Shiprocket has no gate a person must clear; refused credentials are retried and alerted."""
        return None

    async def account_blocker(self) -> str | None:
        """No account check short of booking: the next order's booking tells (no call is made)."""
        raise UnsupportedByAggregator(SERVICE, "check the account without booking")

    async def order_show(self, order_id: str) -> dict[str, Any] | None:
        """`GET /orders/show/{id}`'s `data` as sent; None when Shiprocket does not know the order."""
        response = await self.call("GET", f"/orders/show/{numeric_id(SERVICE, order_id, 'order_id')}")
        if response.status_code in (400, 404):  # "Order ID not found"
            return None
        body = parse_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(data, dict):
            raise self._refused(response)
        return data
