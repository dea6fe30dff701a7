"""What changed in a sales order since we booked it: the shipping address, the lines, quantities, the
amount a COD courier collects. Pure; compared through the same mapping that booked the order, so a
re-delivery or our own custom-field write-back (Zoho sends the order again after it) shows no change."""

from __future__ import annotations

from typing import Any

from app.fulfilment.order_mapping import missing_fields, ship_order_from_json, to_ship_order
from app.integrations.aggregator import OrderLine, ShipOrder
from app.rules import ParcelDefaults

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "state", "pincode", "phone")


def _key(line: OrderLine) -> str:
    return line.line_item_id or line.item_id or line.sku


def _lines(order: ShipOrder) -> dict[str, OrderLine]:
    return {_key(line): line for line in order.lines}


def order_changes(stored: dict[str, Any], so: dict[str, Any], *, cf_payment_method: str,
                  defaults: ParcelDefaults) -> list[str]:
    """Human-readable differences between the booked snapshot and the sales order now; [] when the
    payload is too partial to compare (nothing is claimed that we cannot see)."""
    if not stored or missing_fields(so):
        return []
    old = ship_order_from_json(stored)
    new = to_ship_order(so, cf_payment_method=cf_payment_method, defaults=defaults)
    changes = [f"address {name}: {getattr(old.address, name)!r} -> {getattr(new.address, name)!r}"
               for name in ADDRESS_FIELDS if getattr(old.address, name) != getattr(new.address, name)]
    before, after = _lines(old), _lines(new)
    for key in before.keys() - after.keys():
        changes.append(f"line removed: {before[key].sku} x {before[key].quantity.normalize()}")
    for key in after.keys() - before.keys():
        changes.append(f"line added: {after[key].sku} x {after[key].quantity.normalize()}")
    for key in before.keys() & after.keys():
        if before[key].quantity != after[key].quantity:
            changes.append(f"quantity of {after[key].sku}: {before[key].quantity.normalize()} -> "
                           f"{after[key].quantity.normalize()}")
    if old.payment_method != new.payment_method:
        changes.append(f"payment: {old.payment_method} -> {new.payment_method}")
    if old.total != new.total:
        changes.append(f"total: ₹{old.total} -> ₹{new.total}")
    return sorted(changes)
