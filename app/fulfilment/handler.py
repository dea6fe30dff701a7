"""A stored Zoho sales-order event becomes a shipment row (or is recorded as ignored/invalid).

Order data comes from the webhook payload; Zoho is read only when the payload lacks fields we need,
and item package details are cached in Redis so repeat items cost no Zoho calls (quota is small)."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from redis.exceptions import RedisError

from app.alerts import raise_alert
from app.fulfilment import repository
from app.fulfilment.cancel import cancel_shipment, void_before_booking
from app.fulfilment.edits import order_changes
from app.fulfilment.holds import UNKNOWN, hold_for_payment_method, is_payment_hold, release_payment_hold
from app.fulfilment.order_mapping import (
    MissingOrderData,
    invoice_entries,
    items_needing_package_details,
    known_payment_method,
    missing_fields,
    ship_order_to_json,
    to_ship_order,
)
from app.integrations.http import PermanentUpstreamError
from app.integrations.shipping import panel
from app.integrations.zoho.client import put_base, remember_salesorder
from app.integrations.zoho.webhooks import CANCEL_STATUSES, salesorder_status, zoho_salesorder
from app.models import InboxEvent, InboxState, Shipment, ShipmentLog, ShipmentState
from app.services import Services

log = logging.getLogger("shipbridge.intake")
EDIT_ADVICE = ("Shipbridge never books a second order for it. Before pickup, change the delivery address in "
               "{panel}; items, quantities and amounts cannot change once the AWB is assigned (an "
               "aggregator's update API allows that only before the AWB, if at all), so for those "
               "void this order in Zoho (Shipbridge cancels the shipment) and confirm a new one.")
PACKAGE_CACHE_SECONDS = 24 * 3600


async def item_packages(svc: Services, item_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Package details per item, from the Redis cache or Zoho. The cache is only a saving: without
    Redis every item is read from Zoho, and an unreadable item falls back to the default parcel size."""
    out: dict[str, dict[str, Any]] = {}
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return out
    keys = [f"shipbridge:item-package:{item_id}" for item_id in ids]
    try:
        pool = await svc.queue.pool()
        cached: list[bytes | None] = await pool.mget(keys)
    except (RedisError, OSError, ConnectionError):
        pool, cached = None, [None] * len(ids)
    for item_id, key, hit in zip(ids, keys, cached, strict=True):
        if hit is not None:
            out[item_id] = json.loads(hit)
            continue
        try:
            item = await svc.zoho.get_item(item_id)
        except PermanentUpstreamError as exc:  # deleted item etc.: fall back to default dimensions
            log.warning("item %s unreadable (%s); using default parcel size", item_id, exc.upstream_message)
            continue
        out[item_id] = item.get("package_details") or {}
        if pool is not None:
            try:
                await pool.set(key, json.dumps(out[item_id]), ex=PACKAGE_CACHE_SECONDS)
            except (RedisError, OSError, ConnectionError):
                pool = None
    return out


async def accept_salesorder(svc: Services, event: InboxEvent) -> tuple[str, str | None]:
    """Returns the inbox state and reason. Creates the shipment row for a confirmed order."""
    so = zoho_salesorder(event.body, event.content_type)
    salesorder_id = so["salesorder_id"]
    status = salesorder_status(so)
    if status in CANCEL_STATUSES:
        return await _cancelled_in_zoho(svc, so, status)
    if status != "confirmed":
        return InboxState.ignored, f"sales order status is {status or 'missing'}, not confirmed"

    async with svc.sessionmaker() as session:
        existing = await repository.shipment_by_salesorder(session, salesorder_id)
    if existing is not None and not is_payment_hold(existing):
        return await _already_booked(svc, existing, so)

    read_from_zoho = False
    cf = svc.settings.CF_PAYMENT_METHOD
    if missing_fields(so) or known_payment_method(so, cf) is None:
        # The webhook may carry a subset of the order: read it before calling anything missing.
        so = await svc.zoho.get_salesorder(salesorder_id)
        read_from_zoho = True
        status = salesorder_status(so)
        if status != "confirmed":
            return InboxState.ignored, f"sales order is now {status}, not confirmed"
    payment = known_payment_method(so, cf) or svc.settings.DEFAULT_PAYMENT_METHOD or None
    if existing is not None and payment is None:
        return InboxState.done, "still on hold: the order names no payment method"
    packages = await item_packages(svc, items_needing_package_details(so))
    try:
        order = to_ship_order(so, cf_payment_method=cf, defaults=svc.parcel_defaults, packages=packages,
                              payment=payment or UNKNOWN)
    except MissingOrderData as exc:
        async with svc.sessionmaker.begin() as session:
            await raise_alert(session, kind="order_data_missing", key=salesorder_id, salesorder_id=salesorder_id,
                              message=f"{so.get('salesorder_number', salesorder_id)}: {exc}; fix it in Zoho "
                                      "and confirm again")
        return InboxState.invalid, str(exc)
    if existing is not None:
        return await release_payment_hold(svc, existing, order)

    async with svc.sessionmaker.begin() as session:
        shipment_id = await repository.insert_shipment(
            session, salesorder_id=order.salesorder_id, salesorder_number=order.salesorder_number,
            channel_order_id=order.salesorder_number, state=ShipmentState.received,
            order=ship_order_to_json(order), payment_method=order.payment_method,
            declared_value=order.total, weight_kg=order.parcel.weight_kg, length_cm=order.parcel.length_cm,
            breadth_cm=order.parcel.breadth_cm, height_cm=order.parcel.height_cm,
            zoho_invoices=invoice_entries(so), zoho_put_base=put_base(so))
        if shipment_id is None:
            return InboxState.done, "shipment already exists; never shipped twice"
        session.add(ShipmentLog(shipment_id=shipment_id, step="accepted",
                                detail=f"{order.payment_method}, ₹{order.total}, {order.parcel.weight_kg} kg "
                                       f"to {order.address.pincode} (inbox event {event.id})"))
        if payment is None:
            await hold_for_payment_method(session, shipment_id, order.salesorder_id, order.salesorder_number,
                                          read_from_zoho)
            return InboxState.done, "on hold: the order names no payment method"
    return InboxState.done, "accepted for fulfilment"


async def _cancelled_in_zoho(svc: Services, so: dict[str, Any], status: str) -> tuple[str, str | None]:
    reason = f"sales order {status} in Zoho"
    void = status == "void"
    outcome = await cancel_shipment(svc, so["salesorder_id"], reason=reason, actor="zoho webhook", zoho_void=void)
    if outcome == "no_shipment":
        if status != "void":
            return InboxState.ignored, f"{reason}; no shipment, nothing to cancel"
        if await void_before_booking(svc, so, reason):
            return InboxState.done, f"{reason} before booking: never booked"
        outcome = await cancel_shipment(svc, so["salesorder_id"], reason=reason, actor="zoho webhook",
                                        zoho_void=void)
    return InboxState.done, f"{reason}: {outcome}"


async def _already_booked(svc: Services, existing: Shipment, so: dict[str, Any]) -> tuple[str, str | None]:
    """A confirmed order we already hold: never shipped twice; an edit since booking is told to ops."""
    await remember_salesorder(svc.sessionmaker, existing.salesorder_id, so)  # later writes restate this copy
    if existing.state == ShipmentState.cancelled or not existing.order:
        return InboxState.done, f"shipment already exists ({existing.state}); never shipped twice"
    try:
        changes = order_changes(existing.order, so, cf_payment_method=svc.settings.CF_PAYMENT_METHOD,
                                defaults=svc.parcel_defaults)
    except ValueError:  # a payload we cannot read the same way: say nothing rather than guess
        changes = []
    if not changes:
        return InboxState.done, f"shipment already exists ({existing.state}); never shipped twice"
    who = f"{existing.salesorder_number} (AWB {existing.awb})" if existing.awb else existing.salesorder_number
    digest = hashlib.sha256("|".join(changes).encode()).hexdigest()[:16]
    async with svc.sessionmaker.begin() as session:
        session.add(ShipmentLog(shipment_id=existing.id, step="edited_after_booking", detail="; ".join(changes)))
        await raise_alert(session, kind="order_edited_after_booking", key=f"{existing.salesorder_id}:{digest}",
                          salesorder_id=existing.salesorder_id,
                          message=f"{who} was edited in Zoho after it was booked ({existing.state}): "
                                  f"{'; '.join(changes)}. "
                                  f"{EDIT_ADVICE.format(panel=panel(existing.aggregator, 'edit_address'))}")
    return InboxState.done, f"edited after booking ({len(changes)} changes); alerted, nothing re-booked"
