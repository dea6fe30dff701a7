"""A stored Zoho sales-order event becomes a shipment row (or is recorded as ignored/invalid).

Order data comes from the webhook payload; Zoho is read only when the payload lacks fields we need,
and item package details are cached in Redis so repeat items cost no Zoho calls (quota is small)."""

from __future__ import annotations

import json
import logging
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.fulfilment.holds import UNKNOWN, hold_for_payment_method, is_payment_hold, release_payment_hold
from app.fulfilment.order_mapping import (
    MissingOrderData,
    items_needing_package_details,
    known_payment_method,
    missing_fields,
    ship_order_to_json,
    to_ship_order,
)
from app.integrations.http import PermanentUpstreamError
from app.models import InboxEvent, InboxState, Shipment, ShipmentLog, ShipmentState
from app.ops.alerts import raise_alert
from app.services import Services
from app.webhooks.payloads import salesorder_status, zoho_salesorder

log = logging.getLogger("shipbridge.intake")
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


def invoice_entries(so: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The order's invoices[] as just seen, kept so remittance can skip re-reading the order."""
    invoices = so.get("invoices")
    return [dict(i) for i in invoices if isinstance(i, dict)] if isinstance(invoices, list) else None


async def accept_salesorder(svc: Services, event: InboxEvent) -> tuple[str, str | None]:
    """Returns the inbox state and reason. Creates the shipment row for a confirmed order."""
    so = zoho_salesorder(event.body, event.content_type)
    salesorder_id = so["salesorder_id"]
    status = salesorder_status(so)
    if status != "confirmed":
        return InboxState.ignored, f"sales order status is {status or 'missing'}, not confirmed"

    async with svc.sessionmaker() as session:
        existing = await session.scalar(select(Shipment).where(Shipment.salesorder_id == salesorder_id))
    if existing is not None and not is_payment_hold(existing):
        return InboxState.done, f"shipment already exists ({existing.state}); never shipped twice"

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
        shipment_id = (await session.execute(
            insert(Shipment).values(
                salesorder_id=order.salesorder_id, salesorder_number=order.salesorder_number,
                channel_order_id=order.salesorder_number, state=ShipmentState.received,
                order=ship_order_to_json(order), payment_method=order.payment_method,
                declared_value=order.total, weight_kg=order.parcel.weight_kg, length_cm=order.parcel.length_cm,
                breadth_cm=order.parcel.breadth_cm, height_cm=order.parcel.height_cm,
                zoho_invoices=invoice_entries(so))
            .on_conflict_do_nothing(index_elements=[Shipment.salesorder_id])
            .returning(Shipment.id))).scalar_one_or_none()
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
