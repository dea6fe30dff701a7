"""A Zoho sales order (webhook payload or API read) becomes a ShipOrder: pure functions, no I/O.

COD vs prepaid comes from a configurable rule: the custom field `cf_payment_method` when present, else a
payment-terms label mentioning COD or Cash on Delivery. The parcel comes from item package details when
Zoho has them, else from configured defaults."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from app.fulfilment import order_values
from app.integrations.aggregator import Address, OrderLine, Parcel, ShipOrder
from app.money import amount_or_none, lenient_amount
from app.rules import ParcelDefaults
from app.timeutil import parse_date

COD_LABEL = re.compile(r"\bcod\b|cash\s+on\s+delivery", re.IGNORECASE)
WEIGHT_TO_KG = {"kg": Decimal("1"), "g": Decimal("0.001"), "gm": Decimal("0.001"), "gms": Decimal("0.001"),
                "lb": Decimal("0.45359237"), "lbs": Decimal("0.45359237"), "oz": Decimal("0.028349523")}
LENGTH_TO_CM = {"cm": Decimal("1"), "mm": Decimal("0.1"), "m": Decimal("100"), "in": Decimal("2.54"),
                "inch": Decimal("2.54"), "ft": Decimal("30.48")}


class MissingOrderData(ValueError):
    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__("sales order lacks: " + ", ".join(fields))


def custom_field_value(so: dict[str, Any], api_name: str) -> str | None:
    for field in so.get("custom_fields") or []:
        if isinstance(field, dict) and api_name in (field.get("api_name"), field.get("placeholder")):
            value = field.get("value")
            return None if value in (None, "") else str(value)
    hashed = so.get("custom_field_hash")
    if isinstance(hashed, dict) and hashed.get(api_name) not in (None, ""):
        return str(hashed[api_name])
    if so.get(api_name) not in (None, ""):
        return str(so[api_name])
    return None


def known_payment_method(so: dict[str, Any], cf_payment_method: str) -> str | None:
    """COD or Prepaid when the order says so (the custom field, else payment terms); None when it says
    nothing at all, which must never be read as prepaid: a COD parcel shipped prepaid is cash lost."""
    explicit = (custom_field_value(so, cf_payment_method) or "").strip()
    if explicit:
        if COD_LABEL.search(explicit):
            return "COD"
        if explicit.lower() in ("prepaid", "pre-paid", "paid", "online"):
            return "Prepaid"
    label = str(so.get("payment_terms_label") or "").strip()
    if label:
        return "COD" if COD_LABEL.search(label) else "Prepaid"
    return None


def payment_method(so: dict[str, Any], cf_payment_method: str) -> str:
    return known_payment_method(so, cf_payment_method) or "Prepaid"


def _first(*values: Any) -> str:
    for value in values:
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _contact(so: dict[str, Any]) -> dict[str, Any]:
    for key in ("contact_person_details", "contact_persons_associated"):
        people = so.get(key)
        if isinstance(people, list) and people and isinstance(people[0], dict):
            return people[0]
    return {}


def normalise_phone(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    # Shiprocket wants the 10-digit Indian number; Zoho often stores +91 / 0 prefixes.
    return digits[-10:] if len(digits) >= 10 else digits


def missing_fields(so: dict[str, Any]) -> list[str]:
    """What the webhook payload lacks for booking a shipment (then we read the order from Zoho)."""
    missing = [f for f in ("salesorder_id", "salesorder_number") if not so.get(f)]
    lines = so.get("line_items")
    if not isinstance(lines, list) or not lines:
        missing.append("line_items")
    addr = so.get("shipping_address")
    if not isinstance(addr, dict):
        missing.append("shipping_address")
    else:
        for f in ("address", "city", "state"):
            if not addr.get(f):
                missing.append(f"shipping_address.{f}")
        if not (addr.get("zip") or addr.get("zipcode")):
            missing.append("shipping_address.zip")
    contact = _contact(so)
    if not _first((addr or {}).get("phone") if isinstance(addr, dict) else None, so.get("phone"),
                  contact.get("mobile"), contact.get("phone"), contact.get("contact_person_mobile"),
                  contact.get("contact_person_phone")):
        missing.append("phone")
    if not _first(so.get("email"), contact.get("email"), contact.get("contact_person_email")):
        missing.append("email")
    if amount_or_none(so.get("total")) is None:
        missing.append("total")
    return missing


def build_parcel(lines: list[dict[str, Any]], packages: dict[str, dict[str, Any]],
                 defaults: ParcelDefaults) -> Parcel:
    """Chargeable parcel for the whole order. Items stack: the longest length and breadth, the summed
    height; an item without package details counts with the default weight and dimensions."""
    weight = Decimal("0")
    length = breadth = height = Decimal("0")
    for line in lines:
        qty = lenient_amount(line.get("quantity"), Decimal("1")) or Decimal("1")
        details = line.get("package_details") or packages.get(str(line.get("item_id") or "")) or {}
        w_unit = WEIGHT_TO_KG.get(str(details.get("weight_unit") or "kg").lower(), Decimal("1"))
        d_unit = LENGTH_TO_CM.get(str(details.get("dimension_unit") or "cm").lower(), Decimal("1"))
        unit_weight = (amount_or_none(details.get("weight")) or Decimal("0")) * w_unit or defaults.weight_kg
        weight += unit_weight * qty
        length = max(length, (amount_or_none(details.get("length")) or Decimal("0")) * d_unit or defaults.length_cm)
        breadth = max(breadth, (amount_or_none(details.get("width")) or Decimal("0")) * d_unit or defaults.breadth_cm)
        height += ((amount_or_none(details.get("height")) or Decimal("0")) * d_unit or defaults.height_cm) * qty
    if weight <= 0:
        weight = defaults.weight_kg
    return Parcel(
        weight_kg=weight.quantize(Decimal("0.001")),
        length_cm=max(length, Decimal("1")).quantize(Decimal("0.1")),
        breadth_cm=max(breadth, Decimal("1")).quantize(Decimal("0.1")),
        height_cm=max(height, Decimal("1")).quantize(Decimal("0.1")),
    )


def to_ship_order(so: dict[str, Any], *, cf_payment_method: str, defaults: ParcelDefaults,
                  packages: dict[str, dict[str, Any]] | None = None, payment: str | None = None) -> ShipOrder:
    """`payment` overrides what the order says (the intake resolved it, or holds the order)."""
    missing = missing_fields(so)
    if missing:
        raise MissingOrderData(missing)
    addr = so["shipping_address"]
    contact = _contact(so)
    inclusive = order_values.is_inclusive(so)
    lines = [
        OrderLine(
            line_item_id=str(line.get("line_item_id") or ""),
            item_id=str(line.get("item_id") or ""),
            sku=_first(line.get("sku"), line.get("item_id")),
            name=_first(line.get("name"), line.get("description"), line.get("sku")),
            quantity=lenient_amount(line.get("quantity"), Decimal("1")) or Decimal("1"),
            rate=order_values.unit_selling_price(line, inclusive=inclusive),
            hsn=_first(line.get("hsn_or_sac")),
            tax_percent=order_values.tax_percent(line),
        )
        for line in so["line_items"]
    ]
    address = Address(
        name=_first(addr.get("attention"), so.get("customer_name")),
        line1=_first(addr.get("address")),
        line2=_first(addr.get("street2")),
        city=_first(addr.get("city")),
        state=_first(addr.get("state")),
        pincode=re.sub(r"\D", "", _first(addr.get("zip"), addr.get("zipcode"))),
        country=_first(addr.get("country"), "India"),
        phone=normalise_phone(_first(addr.get("phone"), so.get("phone"), contact.get("mobile"),
                                     contact.get("phone"), contact.get("contact_person_mobile"),
                                     contact.get("contact_person_phone"))),
        email=_first(so.get("email"), contact.get("email"), contact.get("contact_person_email")),
    )
    return ShipOrder(
        salesorder_id=str(so["salesorder_id"]),
        salesorder_number=str(so["salesorder_number"]),
        order_date=parse_date(so.get("date")),
        customer_id=str(so.get("customer_id") or ""),
        address=address,
        lines=tuple(lines),
        total=(amount_or_none(so.get("total")) or Decimal("0")).quantize(Decimal("0.01")),
        payment_method=payment or payment_method(so, cf_payment_method),
        parcel=build_parcel(so["line_items"], packages or {}, defaults),
        location_id=str(so.get("location_id") or ""),
        shipping_charges=order_values.shipping_charge(so),
    )


def items_needing_package_details(so: dict[str, Any]) -> list[str]:
    return [str(line["item_id"]) for line in so.get("line_items") or []
            if isinstance(line, dict) and line.get("item_id") and not line.get("package_details")]


def ship_order_to_json(order: ShipOrder) -> dict[str, Any]:
    """Snapshot stored on the shipment row, so a resumed job ships exactly what was first accepted."""
    def conv(v: Any) -> Any:
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        return v

    return conv(asdict(order))  # type: ignore[no-any-return]


def ship_order_from_json(data: dict[str, Any]) -> ShipOrder:
    return ShipOrder(
        salesorder_id=data["salesorder_id"],
        salesorder_number=data["salesorder_number"],
        order_date=date.fromisoformat(data["order_date"]),
        customer_id=data["customer_id"],
        address=Address(**data["address"]),
        lines=tuple(OrderLine(**{**line, "quantity": Decimal(line["quantity"]), "rate": Decimal(line["rate"]),
                                 "tax_percent": Decimal(line.get("tax_percent", "0"))})
                    for line in data["lines"]),
        total=Decimal(data["total"]),
        payment_method=data["payment_method"],
        parcel=Parcel(**{k: Decimal(v) for k, v in data["parcel"].items()}),
        location_id=data.get("location_id", ""),
        # Snapshots from before shipping was sent apart: 0, and the payload balances the total itself.
        shipping_charges=Decimal(data.get("shipping_charges", "0")),
    )


def invoice_entries(so: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The order's invoices[] as just seen, kept so remittance can skip re-reading the order."""
    invoices = so.get("invoices")
    return [dict(i) for i in invoices if isinstance(i, dict)] if isinstance(invoices, list) else None
