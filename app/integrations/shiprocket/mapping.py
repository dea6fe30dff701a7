"""Pure translation between our ShipOrder and Shiprocket's JSON. No I/O here, so every quirk
(string numbers, errors inside 200s, two ways of answering a duplicate order id) is testable offline."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.integrations.aggregator import (
    Address,
    AwbAlreadyAssigned,
    AwbAssignment,
    AwbAssignmentFailed,
    CourierOption,
    CreatedOrder,
    OrderLine,
    ReturnOrder,
    Serviceability,
    ShipOrder,
)
from app.money import amount_or_none
from app.money import to_json_number as money  # Shiprocket takes JSON numbers in rupees
from app.timeutil import IST  # kept importable here: the Shiprocket parsers read IST wall-clock times

TOKEN_LIFETIME = timedelta(days=10)  # Shiprocket's documented lifetime when the JWT carries no `exp`
CANCELLED_STATUS_CODES = {5, 18, 54}  # Canceled, Cancellation Requested, Canceled before Dispatched


def to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, dict):  # seen in the wild: `rate` arriving as {"rate": ...}
        value = value.get("rate")
    return amount_or_none(value)


def token_expiry(token: str, now: datetime | None = None) -> datetime:
    """Read `exp` from the JWT when present; the login response itself carries no expiry."""
    now = now or datetime.now(UTC)
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        exp = json.loads(base64.urlsafe_b64decode(payload)).get("exp")
        if exp:
            return datetime.fromtimestamp(int(exp), UTC)
    except (IndexError, ValueError, TypeError, json.JSONDecodeError):
        pass
    return now + TOKEN_LIFETIME


def serviceability_params(order: ShipOrder, pickup_pincode: str) -> dict[str, Any]:
    return {
        "pickup_postcode": pickup_pincode,
        "delivery_postcode": order.address.pincode,
        "weight": str(order.parcel.weight_kg),
        "cod": 1 if order.cod else 0,
        "declared_value": str(order.total),
        "length": str(order.parcel.length_cm),
        "breadth": str(order.parcel.breadth_cm),
        "height": str(order.parcel.height_cm),
    }


def parse_serviceability(body: Any) -> Serviceability:
    if not isinstance(body, dict):
        return Serviceability(options=())
    data = body.get("data")
    if not isinstance(data, dict):
        return Serviceability(options=())  # e.g. {"status":404,"message":"..."}: nobody serves the pincode
    options = []
    for c in data.get("available_courier_companies") or []:
        try:
            courier_id = str(int(c["courier_company_id"]))
        except (KeyError, TypeError, ValueError):
            continue
        rate = to_decimal(c.get("rate"))
        if rate is None:
            rate = to_decimal(c.get("freight_charge")) or Decimal("0")
        etd = c.get("estimated_delivery_days")
        try:
            etd_days = int(str(etd)) if etd not in (None, "") else None
        except ValueError:
            etd_days = None
        options.append(CourierOption(courier_id=courier_id, name=str(c.get("courier_name") or courier_id),
                                     rate=rate, etd_days=etd_days, rating=to_decimal(c.get("rating")),
                                     aggregator="shiprocket"))
    recommended = data.get("recommended_courier_company_id") or data.get("shiprocket_recommended_courier_id")
    try:
        recommended_id = str(int(recommended)) if recommended else None
    except (TypeError, ValueError):
        recommended_id = None
    return Serviceability(options=tuple(options), recommended_id=recommended_id)


def order_items(lines: tuple[OrderLine, ...]) -> list[dict[str, Any]]:
    """Per-unit, GST-inclusive selling prices with the GST rate (`tax`, percent) and HSN code."""
    return [{"name": line.name, "sku": line.sku or line.item_id, "units": int(line.quantity),
             "selling_price": money(line.rate), "tax": money(line.tax_percent),
             **({"hsn": line.hsn} if line.hsn else {})} for line in lines]


def order_charges(order: ShipOrder) -> dict[str, Any]:
    """Shipping in `shipping_charges`, and whatever else separates the items from the order total in
    `total_discount` (an order-level discount, paise the per-unit rounding added) or, when the order
    costs more than its items and shipping (a positive Zoho adjustment), `transaction_charges`; so that
    items + shipping + transaction - discount is exactly sub_total, the amount the customer pays."""
    items = sum((line.rate * int(line.quantity) for line in order.lines), Decimal(0))
    gap = items + order.shipping_charges - order.total
    charges: dict[str, Any] = {"shipping_charges": money(order.shipping_charges), "total_discount": 0,
                               "transaction_charges": 0}
    if gap > 0:
        charges["total_discount"] = money(gap)
    elif gap < 0:
        charges["transaction_charges"] = money(-gap)
    return charges


def adhoc_order_payload(order: ShipOrder, channel_order_id: str, pickup_location: str,
                        now: datetime | None = None) -> dict[str, Any]:
    a = order.address
    first, _, last = a.name.strip().partition(" ")
    # Shiprocket wants the order date in IST; Zoho's sales order date is a calendar date, so use the
    # moment we book it when that date is today and the date itself otherwise.
    now_ist = (now or datetime.now(UTC)).astimezone(IST)
    if order.order_date == now_ist.date():
        order_date = now_ist.strftime("%Y-%m-%d %H:%M")
    else:
        order_date = order.order_date.isoformat()
    return {
        "order_id": channel_order_id,
        "order_date": order_date,
        "pickup_location": pickup_location,
        "billing_customer_name": first or a.name,
        "billing_last_name": last,
        "billing_address": a.line1,
        "billing_address_2": a.line2,
        "billing_city": a.city[:30],
        "billing_pincode": a.pincode,
        "billing_state": a.state,
        "billing_country": a.country or "India",
        "billing_email": a.email,
        "billing_phone": a.phone,
        "shipping_is_billing": True,
        "order_items": order_items(order.lines),
        "payment_method": "COD" if order.cod else "Prepaid",
        **order_charges(order),
        # sub_total is not computed by Shiprocket and is what a COD courier collects: the order's total.
        "sub_total": money(order.total),
        "length": float(order.parcel.length_cm),
        "breadth": float(order.parcel.breadth_cm),
        "height": float(order.parcel.height_cm),
        "weight": float(order.parcel.weight_kg),
    }


def parse_created_order(body: dict[str, Any]) -> CreatedOrder:
    status_code = body.get("status_code")
    awb = body.get("awb_code") or None
    return CreatedOrder(
        order_id=str(body["order_id"]),
        shipment_id=str(body["shipment_id"]),
        status=str(body.get("status") or ""),
        awb=str(awb) if awb else None,
        courier_name=body.get("courier_name") or None,
        # A fresh adhoc order answers status_code 1 (NEW); anything else is Shiprocket handing back an
        # order it already had under this order_id.
        reused_existing=status_code not in (None, 1),
        cancelled=status_code in CANCELLED_STATUS_CODES or str(body.get("status", "")).upper().startswith("CANCEL"),
    )


def is_duplicate_order_error(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    text = json.dumps(body.get("errors") or {}).lower() + " " + str(body.get("message", "")).lower()
    return "already been taken" in text or "already exists" in text


def parse_awb_assignment(body: Any) -> AwbAssignment:
    """Success is a body with an `awb_code`, whatever the HTTP status says."""
    data: dict[str, Any] = {}
    if isinstance(body, dict):
        response = body.get("response")
        if isinstance(response, dict) and isinstance(response.get("data"), dict):
            data = response["data"]
    awb = data.get("awb_code")
    if awb:
        courier_id = data.get("courier_company_id")
        return AwbAssignment(awb=str(awb), courier_id=str(courier_id) if courier_id else None,
                             courier_name=str(data.get("courier_name") or ""), raw=data)
    message = ""
    if data.get("awb_assign_error"):
        message = str(data["awb_assign_error"])
    elif isinstance(body, dict):
        message = str(body.get("message") or body.get("response") or "")
    message = message or "no awb_code in the response"
    if "already assigned" in message.lower():
        raise AwbAlreadyAssigned("shiprocket", message, body=body)
    raise AwbAssignmentFailed("shiprocket", message, body=body)


def return_order_payload(order: ReturnOrder) -> dict[str, Any]:
    """`/orders/create/return`: pickup_* is the customer, shipping_* the warehouse; always prepaid."""
    c, w = order.customer, order.warehouse
    first, _, last = c.name.strip().partition(" ")
    return {
        "order_id": order.channel_order_id,
        "order_date": order.order_date.isoformat(),
        "pickup_customer_name": first or c.name,
        "pickup_last_name": last,
        "pickup_address": c.line1,
        "pickup_address_2": c.line2,
        "pickup_city": c.city,
        "pickup_state": c.state,
        "pickup_country": c.country or "India",
        "pickup_pincode": c.pincode,
        "pickup_email": c.email,
        "pickup_phone": c.phone,
        "shipping_customer_name": w.name,
        "shipping_address": w.line1,
        "shipping_address_2": w.line2,
        "shipping_city": w.city,
        "shipping_state": w.state,
        "shipping_country": w.country or "India",
        "shipping_pincode": w.pincode,
        "shipping_phone": w.phone,
        "shipping_email": w.email,
        "pickup_location_id": order.pickup_location_id,
        "order_items": order_items(order.lines),
        "payment_method": "Prepaid",
        "sub_total": money(order.sub_total),
        "length": float(order.parcel.length_cm),
        "breadth": float(order.parcel.breadth_cm),
        "height": float(order.parcel.height_cm),
        "weight": float(order.parcel.weight_kg),
    }


def parse_pickup_address(body: Any, location: str) -> Address | None:
    found = parse_pickup_location(body, location)
    return found[1] if found else None


def parse_pickup_location(body: Any, location: str) -> tuple[str, Address] | None:
    """(Shiprocket's id of the pickup location, its address), matched by the exact nickname."""
    data = body.get("data") if isinstance(body, dict) else None
    rows = data.get("shipping_address") if isinstance(data, dict) else None
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and str(row.get("pickup_location")) == location:
            name = str(row.get("name") or row.get("pickup_location") or location)
            return str(row.get("id") or ""), Address(name=name,
                           line1=str(row.get("address") or ""), line2=str(row.get("address_2") or ""),
                           city=str(row.get("city") or ""), state=str(row.get("state") or ""),
                           pincode=str(row.get("pin_code") or ""), country=str(row.get("country") or "India"),
                           phone=str(row.get("phone") or ""), email=str(row.get("email") or ""))
    return None
