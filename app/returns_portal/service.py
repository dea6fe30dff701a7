"""Return Prime requests acted on: re-read (webhook) or listed (poller) from Return Prime's API, mapped
to the Zoho sales order and its lines, then handed to the customer-return path, which books the reverse
pickup (or tracks Return Prime's own AWB), restocks and credits on arrival, exactly once per line.

One advisory lock per request keeps three deliveries of the same webhook off each other; the
returnprime_lines table (unique per request line) and the deterministic channel order id make a
repeated delivery, a poll or a crash mid-way find what was done instead of doing it again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from app.alerts import raise_alert
from app.fulfilment import repository as fulfilment_repository
from app.fulfilment.order_mapping import ship_order_from_json
from app.integrations.http import RetryableUpstreamError, RetryPolicy, UpstreamError
from app.integrations.returnprime.client import SERVICE, ReturnPrimeClient
from app.integrations.returnprime.models import RequestLine, ReturnRequest
from app.integrations.shipping import display_name
from app.locks import advisory_lock
from app.models import Shipment
from app.returns_portal import repository
from app.returns_portal.mapping import ParcelGroup, Unmappable, channel_order_id, map_lines
from app.returns_portal.models import ReturnPrimeLine
from app.services import Services
from app.tracking import repository as tracking_repository
from app.tracking.models import CustomerReturn
from app.tracking.repository import find_parcel
from app.tracking.returns import KnownReturn, ReturnRefused, advance_return, request_return

log = logging.getLogger("shipbridge.returnprime")

UNFINISHED = ("requested", "created", "failed", "awb_failed")  # customer-return states a retry can move
# A reverse AWB Return Prime booked outside the seller's Shiprocket account is unknown to Shiprocket's
# tracking, which answers such AWBs like fresh ones (no activity): silence this long is the only sign.
UNTRACKED_AFTER = timedelta(days=3)


def returnprime_client(svc: Services) -> ReturnPrimeClient:
    s = svc.settings
    policy = RetryPolicy(max_retries=s.HTTP_MAX_RETRIES, base_delay=s.HTTP_BACKOFF_BASE_SECONDS,
                         max_delay=s.HTTP_BACKOFF_MAX_SECONDS)
    return ReturnPrimeClient(svc.http, s.RETURNPRIME_API_URL, s.RETURNPRIME_TOKEN.get_secret_value(), policy)


async def poll_returnprime(svc: Services, now: datetime | None = None) -> int:
    """What webhooks missed: every approved request created in the lookback window; returns how many
    parcels were booked or linked."""
    today = (now or datetime.now(UTC)).date()
    since = today - timedelta(days=svc.settings.RETURNPRIME_LOOKBACK_DAYS)
    count = 0
    async for request in returnprime_client(svc).list_requests(since, today + timedelta(days=1)):
        if not request.actionable:
            continue
        try:
            outcome = await sync_request(svc, request)
        except UpstreamError as exc:
            log.warning("Return Prime %s: %s", request.number, exc)
            continue
        count += outcome.startswith(("booked", "tracking"))
    if count:
        log.info("Return Prime poll: %d return(s) taken on", count)
    await _alert_untracked(svc, now or datetime.now(UTC))
    return count


async def _alert_untracked(svc: Services, now: datetime) -> None:
    async with svc.sessionmaker.begin() as session:
        for ret, aggregator in await repository.untracked_returns(session, now - UNTRACKED_AFTER):
            name = display_name(aggregator)  # the forward parcel's aggregator: the one asked for its tracking
            await raise_alert(session, kind="returnprime_awb_untracked", key=str(ret.id),
                              salesorder_id=ret.salesorder_id,
                              message=f"{ret.salesorder_number}: Return Prime's reverse AWB {ret.awb} "
                                      f"({ret.courier_name or 'courier unknown'}) has had no tracking from "
                                      f"{name} in 3 days: it was probably booked outside {name}. "
                                      "Receive the return in Zoho by hand when it arrives.")


async def sync_request(svc: Services, request: ReturnRequest) -> str:
    async with advisory_lock(svc.engine, f"returnprime:{request.id}", wait=10.0) as held:
        if not held:
            raise RetryableUpstreamError(SERVICE, f"request {request.number} is being handled by another job")
        return await _sync(svc, request)


async def _sync(svc: Services, request: ReturnRequest) -> str:
    if request.rejected:
        return f"{request.number} was rejected on Return Prime: nothing to do"
    if not request.approved:
        return f"{request.number} is not approved yet"
    async with svc.sessionmaker() as session:
        rows = await repository.request_lines(session, request.id)
    linked = {row.line_id: row for row in rows if row.state == "linked" and row.customer_return_id}
    await _resume(svc, request, linked)
    todo = [line for line in request.lines if line.line_id not in linked]
    if not todo:
        return f"{request.number}: every line is already a customer return"
    try:
        shipment = await _find_shipment(svc, request)
        groups = map_lines(request, todo, ship_order_from_json(shipment.order))
    except Unmappable as exc:
        await _unmappable(svc, request, todo, None, str(exc))
        return f"unmappable: {exc}"
    done = []
    for group in groups:
        if not group.awb and not svc.settings.RETURNPRIME_BOOK_PICKUPS:
            done.append(f"waiting for Return Prime's own AWB for {len(group.request_lines)} line(s)")
            continue
        done.append(await _take_on(svc, request, shipment, group))
    return "; ".join(done)


async def _take_on(svc: Services, request: ReturnRequest, shipment: Shipment, group: ParcelGroup) -> str:
    channel = channel_order_id(shipment.salesorder_number, request, group.awb)
    async with svc.sessionmaker() as session:
        existing: CustomerReturn | None = await repository.return_by_channel_order_id(session, channel)
        parcel = await find_parcel(session, group.awb) if group.awb and existing is None else None
    if parcel is not None:
        if not parcel.is_return:
            await _unmappable(svc, request, group.request_lines, shipment.salesorder_id,
                              f"{request.number}: AWB {group.awb} is the forward parcel of "
                              f"{shipment.salesorder_number}, not a return")
            return f"unmappable: AWB {group.awb} is a forward parcel"
        async with svc.sessionmaker() as session:
            existing = await tracking_repository.customer_return(session, parcel.id)  # the same parcel, known already
    ret: CustomerReturn
    if existing is not None:
        try:
            ret = existing if existing.state not in UNFINISHED else await advance_return(svc, existing.id)
        except ReturnRefused as exc:  # only "the order is busy": retried
            raise RetryableUpstreamError(SERVICE, str(exc)) from None
    else:
        known = KnownReturn(channel, group.awb, group.courier)
        reason = f"Return Prime {request.number} ({request.kind}): " + ", ".join(
            sorted({line.reason for line in group.request_lines if line.reason}))
        try:
            ret = await request_return(svc, shipment.salesorder_id, group.return_lines(), reason, known)
        except ReturnRefused as exc:
            if exc.status == 409 and "being updated" in str(exc):
                raise RetryableUpstreamError(SERVICE, str(exc)) from None
            await _unmappable(svc, request, group.request_lines, shipment.salesorder_id,
                              f"{request.number}: {exc}")
            return f"unmappable: {exc}"
    await _link(svc, request, group.request_lines, shipment.salesorder_id, ret.id, f"{ret.channel_order_id}")
    verb = "tracking" if group.awb else "booked"
    return f"{verb} {ret.channel_order_id} ({ret.state}, AWB {ret.awb or 'none yet'})"


async def _resume(svc: Services, request: ReturnRequest, linked: dict[str, ReturnPrimeLine]) -> None:
    """Linked returns a failure left unfinished are retried; a second AWB for a linked line is flagged."""
    ids = {row.customer_return_id for row in linked.values() if row.customer_return_id}
    if not ids:
        return
    async with svc.sessionmaker() as session:
        returns = await repository.returns_by_id(session, ids)
    for ret in returns.values():
        if ret.state in UNFINISHED:
            try:
                await advance_return(svc, ret.id)
            except ReturnRefused as exc:
                log.info("Return Prime %s: %s not resumed: %s", request.number, ret.channel_order_id, exc)
    for line in request.lines:
        row = linked.get(line.line_id)
        other = returns.get(row.customer_return_id) if row and row.customer_return_id else None
        if other is not None and line.awb and other.awb and line.awb != other.awb:
            async with svc.sessionmaker.begin() as session:
                await raise_alert(session, kind="returnprime_second_awb", key=f"{request.id}:{line.awb}",
                                  salesorder_id=other.salesorder_id,
                                  message=f"Return Prime {request.number} carries AWB {line.awb}, but "
                                          f"{other.channel_order_id} already travels as {other.awb}: two pickups "
                                          "may be booked; cancel one.")


async def _find_shipment(svc: Services, request: ReturnRequest) -> Shipment:
    name = request.order_name
    if not name:
        raise Unmappable(f"{request.number}: the request names no order")
    if svc.settings.RETURNPRIME_ORDER_MATCH == "salesorder_number":
        async with svc.sessionmaker() as session:
            found = await repository.shipments_numbered(session, name)
        if len(found) != 1:
            raise Unmappable(f"{request.number}: {len(found)} shipped sales orders are numbered {name}")
        return found[0]
    body = await svc.zoho.call("GET", "/inventory/v1/salesorders", params={"reference_number": name})
    orders: list[dict[str, Any]] = [so for so in body.get("salesorders") or []
                                    if str(so.get("reference_number", "")).strip() == name]
    if len(orders) != 1:
        raise Unmappable(f"{request.number}: {len(orders)} Zoho sales orders have reference number {name}")
    salesorder_id = str(orders[0]["salesorder_id"])
    async with svc.sessionmaker() as session:
        shipment = await fulfilment_repository.shipment_by_salesorder(session, salesorder_id)
    if shipment is None:
        raise Unmappable(f"{request.number}: Shipbridge never shipped sales order "
                         f"{orders[0].get('salesorder_number', salesorder_id)}")
    return shipment


async def _link(svc: Services, request: ReturnRequest, lines: list[RequestLine], salesorder_id: str | None,
                return_id: int | None, detail: str, state: str = "linked") -> None:
    async with svc.sessionmaker.begin() as session:
        for line in lines:
            values = {"request_number": request.number[:40], "sku": line.sku[:100],
                      "quantity": format(line.quantity.normalize(), "f")[:20], "salesorder_id": salesorder_id,
                      "state": state, "customer_return_id": return_id, "detail": detail,
                      "updated_at": datetime.now(UTC)}
            await repository.save_request_line(session, request.id, line.line_id[:40], values)


async def _unmappable(svc: Services, request: ReturnRequest, lines: list[RequestLine], salesorder_id: str | None,
                      reason: str) -> None:
    """Kept (the lines are retried on every later delivery or poll) and alerted once per reason."""
    await _link(svc, request, lines, salesorder_id, None, reason, state="unmappable")
    async with svc.sessionmaker.begin() as session:
        await raise_alert(session, kind="returnprime_unmappable", key=f"{request.id}:{reason}"[:150],
                          salesorder_id=salesorder_id,
                          message=f"Return Prime request {reason}. Nothing was booked; fix it in Zoho or "
                                  "Return Prime and it is picked up on the next update or poll.")
